"""``smartgrid produce`` and ``smartgrid replay``: parse options, call the library, print a summary."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from producer.faults import FAULT_KINDS, parse_fault_spec
from producer.options import ProduceOptions, ReplayOptions, parse_mapping
from producer.pacing import Pacing
from producer.sinks import SINKS
from producer.sinks.local import DEFAULT_MAX_EVENTS_PER_FILE
from smartgrid.durations import parse_duration, parse_utc_timestamp
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake
from smartgrid.lake_checks import Need
from smartgrid.options import finite_float, positive_float

SINK_HELP = (
    "local: JSON Lines files in <lake>/landing (the embedded event hub, default); "
    "eventhubs: Azure Event Hubs (EVENTHUB_CONNECTION_STR + EVENTHUB_NAME, or "
    "EVENTHUB_FULLY_QUALIFIED_NAMESPACE + EVENTHUB_NAME with an Azure AD credential); "
    "kafka: a Kafka topic (--kafka-bootstrap/--topic, or KAFKA_BOOTSTRAP_SERVERS/KAFKA_TOPIC, or "
    "Event Hubs' Kafka endpoint from EVENTHUB_CONNECTION_STR + EVENTHUB_NAME); "
    "stdout: JSON lines for piping"
)


def _add_sending_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sink", choices=SINKS, default="local", help=SINK_HELP)
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="pace events to the wall clock by their timestamps (default: as fast as possible)",
    )
    parser.add_argument(
        "--speed",
        type=positive_float,
        default=1.0,
        help="with --realtime: simulated seconds per wall-clock second (e.g. 60)",
    )
    parser.add_argument("--rate", type=positive_float, help="send N events per second")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_MAX_EVENTS_PER_FILE,
        metavar="N",
        help=f"local sink: events per landing file (default {DEFAULT_MAX_EVENTS_PER_FILE:,})",
    )
    parser.add_argument(
        "--kafka-bootstrap",
        metavar="HOST:PORT",
        help="kafka sink: bootstrap servers (default $KAFKA_BOOTSTRAP_SERVERS)",
    )
    parser.add_argument(
        "--topic", help="kafka sink: topic (default $KAFKA_TOPIC, or $EVENTHUB_NAME)"
    )
    # --verbose (the CLI's common option) also prints every event to stderr.


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    produce = subparsers.add_parser(
        "produce",
        parents=[common],
        help="simulate a fleet of smart meters and send its readings",
        description="Simulate a seeded fleet of smart meters and send its readings to a sink. "
        "The same --seed and options give byte-identical events.",
    )
    produce.add_argument("--meters", type=int, default=100, help="fleet size (default 100)")
    produce.add_argument(
        "--start",
        help="UTC start, e.g. 2025-01-01T00:00:00Z (default: that; with --realtime, now, "
        "or with --speed above 1, --duration before now so no reading is in the future)",
    )
    produce.add_argument("--duration", default="7d", help="simulated time, e.g. 90s, 15m, 2h, 7d")
    produce.add_argument("--interval", default="15m", help="time between readings of a meter")
    produce.add_argument("--seed", type=int, default=42)
    produce.add_argument(
        "--faults",
        default="",
        help=f"fractions of faulty events, e.g. duplicate=0.01,late=0.01,malformed=0.005,"
        f"voltage=0.002 (kinds: {', '.join(FAULT_KINDS)}; default none)",
    )
    produce.add_argument(
        "--nominal-voltage",
        type=finite_float,
        default=230.0,
        help="230 (EN 50160, default) or 120 (North America)",
    )
    _add_sending_options(produce)
    produce.set_defaults(func=run_produce, lake_need=Need.CREATE)

    replay = subparsers.add_parser(
        "replay",
        parents=[common],
        help="send historical readings from a CSV or Parquet file",
        description="Send the readings of a CSV or Parquet file through a sink. Columns are "
        "found by event field name or --map. The whole file is checked before the first event "
        "is sent; bad rows are reported with their line number and skipped. Numbers are plain "
        "decimals (1_000 is a bad row). Timestamps without a zone are read as UTC. real_power_watts is derived "
        "as voltage x current_a x power_factor when the file has no power column. An optional "
        "sent_at column (when the reading was sent; read like timestamp, moved with it by "
        "--shift-to-now) is carried as the event's sent_at.",
    )
    replay.add_argument("file", type=Path, help="a .csv (with a header line) or .parquet file")
    replay.add_argument(
        "--map",
        action="append",
        metavar="FIELD=COLUMN",
        help="read an event field from a differently named column, e.g. voltage=voltage_V "
        "(repeat, or separate with commas)",
    )
    replay.add_argument(
        "--shift-to-now",
        action="store_true",
        help="move the file's times so they end now (with --realtime: start now)",
    )
    replay.add_argument(
        "--encoding",
        default="utf-8",
        help="a CSV file's text encoding, e.g. cp1252 or latin-1 (default utf-8); a row with "
        "bytes that do not decode is a bad row",
    )
    replay.add_argument(
        "--start-line",
        type=int,
        default=1,
        metavar="N",
        help="skip the rows before line N (CSV, header = line 1) or row N (Parquet): resume a "
        "replay that stopped, from the line its error or summary names",
    )
    replay.add_argument(
        "--energy-interval",
        metavar="DURATION",
        help="the power column holds ENERGY in Wh over this interval per reading (e.g. 1h for "
        "hourly energy; map it with --map real_power_watts=COLUMN): each reading is sent as "
        "that interval's average power, W = Wh x 3600 / seconds. Must be greater than zero",
    )
    _add_sending_options(replay)
    replay.set_defaults(func=run_replay, lake_need=Need.CREATE)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (a container or job stop) like Ctrl-C: flush what was accepted, then exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _pacing(args: argparse.Namespace) -> Pacing:
    return Pacing(realtime=args.realtime, speed=args.speed, rate=args.rate)


def _kafka_sink(args: argparse.Namespace, lake: Lake):
    """The kafka sink built from --kafka-bootstrap/--topic; None lets the library pick the sink."""
    if args.sink != "kafka":
        for option, value in (("--kafka-bootstrap", args.kafka_bootstrap), ("--topic", args.topic)):
            if value:
                raise SmartgridError(f"{option} applies to --sink kafka only")
        return None
    from producer.sinks import make_sink

    return make_sink("kafka", lake, kafka_bootstrap=args.kafka_bootstrap, topic=args.topic)


def run_produce(args: argparse.Namespace) -> int:
    from producer.run import produce

    options = ProduceOptions(
        meters=args.meters,
        start=parse_utc_timestamp(args.start, name="--start") if args.start else None,
        duration=parse_duration(args.duration, name="--duration"),
        interval=parse_duration(args.interval, name="--interval"),
        seed=args.seed,
        sink=args.sink,
        faults=parse_fault_spec(args.faults),
        pacing=_pacing(args),
        batch_size=args.batch_size,
        nominal_voltage=args.nominal_voltage,
        verbose=args.verbose,
    )
    lake = Lake.resolve(args.lake)
    sink = _kafka_sink(args, lake)
    with _sigterm_as_interrupt():
        summary = produce(options, lake, sink)
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 130 if summary.stopped == "interrupted" else 0


def _energy_interval(text: str | None) -> timedelta | None:
    if text is None:
        return None
    if text.strip().startswith("-"):
        raise SmartgridError(
            f"--energy-interval {text!r} must be greater than zero: it is the interval each "
            "reading's energy covers, e.g. 1h"
        )
    return parse_duration(text, name="--energy-interval")


def run_replay(args: argparse.Namespace) -> int:
    from producer.run import replay

    options = ReplayOptions(
        path=args.file,
        mapping=parse_mapping(args.map),
        shift_to_now=args.shift_to_now,
        sink=args.sink,
        pacing=_pacing(args),
        batch_size=args.batch_size,
        verbose=args.verbose,
        encoding=args.encoding,
        start_line=args.start_line,
        energy_interval=_energy_interval(args.energy_interval),
    )
    lake = Lake.resolve(args.lake)
    sink = _kafka_sink(args, lake)
    with _sigterm_as_interrupt():
        summary = replay(options, lake, sink)
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 130 if summary.stopped == "interrupted" else 0
