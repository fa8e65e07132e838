"""``smartgrid demo --live``: the pipeline running continuously, with freshness measured.

Three loops share one process and one SparkSession:

  producer thread  paced to the wall clock (speed 1: a reading is sent at its own timestamp)
  ingest thread    Structured Streaming with a processing-time trigger into raw/validated/quarantine
  main thread      every ``--refresh``: incremental ``dbt run`` of the models, CSV export, dashboard

Freshness is the age of the newest curated reading when a refresh completes: at speed 1 a
reading's timestamp is its send time, so ``refresh end - newest timestamp`` is the delay from
sending an event to seeing it in the curated table and the dashboard (the worst case adds one
refresh period for an event sent just after a refresh read its input).

Ctrl-C (or ``--for``) stops the producer (its last batch is flushed), lets the running
micro-batch commit, catches up whatever landed since with an availableNow run, and finishes with
a full ``dbt build`` (models and tests): nothing that was sent is lost.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from producer.pacing import SystemClock
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StoppableClock(SystemClock):
    """The producer's wall clock, whose sleeps end early when ``stop`` is set.

    The producer treats KeyboardInterrupt as "stop sending, flush what was accepted", so
    raising it from a paced sleep stops a producer thread as Ctrl-C stops the command.
    """

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    def sleep(self, seconds: float) -> None:
        if self.stop.wait(max(0.0, seconds)):
            raise KeyboardInterrupt


@dataclass
class Refresh:
    number: int
    finished_at: datetime
    seconds: float
    curated_rows: int
    freshness_seconds: float | None


@dataclass
class LiveReport:
    refreshes: list[Refresh] = field(default_factory=list)
    produced: int = 0
    raw: int = 0
    errors: list[str] = field(default_factory=list)

    def freshness(self) -> list[float]:
        # The first refresh includes start-up; it says nothing about steady-state freshness.
        steady = self.refreshes[1:] or self.refreshes
        return [r.freshness_seconds for r in steady if r.freshness_seconds is not None]


def _newest_curated(spark, lake: Lake) -> tuple[int, datetime | None]:
    from pyspark.sql import functions as F

    row = (
        spark.read.format("delta")
        .load(lake.path("curated", "fct_meter_readings"))
        .agg(F.count(F.lit(1)).alias("rows"), F.max("timestamp").alias("newest"))
        .first()
    )
    newest = row["newest"]
    if newest is not None and newest.tzinfo is None:
        newest = newest.replace(tzinfo=timezone.utc)  # the session time zone is UTC
    return row["rows"], newest


def _run_thread(name: str, target, errors: list[str]) -> threading.Thread:
    def body() -> None:
        try:
            target()
        except BaseException as exc:  # reported by the main loop, which stops everything
            errors.append(f"{name}: {exc}")

    thread = threading.Thread(target=body, name=name, daemon=True)
    thread.start()
    return thread


def run_live(args: argparse.Namespace, out=None) -> LiveReport:
    from ingest.config import IngestConfig
    from ingest.job import run_ingest, table_counts
    from producer.faults import parse_fault_spec
    from producer.options import ProduceOptions
    from producer.pacing import Pacing
    from producer.run import produce
    from smartgrid import dbt_runner
    from smartgrid.demo import _interval, reset_lake
    from smartgrid.report.dashboard import build_dashboard

    out = out or sys.stdout
    lake = Lake.resolve(args.lake)
    if args.refresh <= 0:
        raise SmartgridError(f"--refresh {args.refresh} must be positive seconds")
    run_for = args.run_for
    options = ProduceOptions(
        meters=args.meters,
        interval=_interval(args.interval),
        # Long enough to outlast any session; Ctrl-C or --for ends it.
        duration=timedelta(days=365),
        seed=args.seed,
        faults=parse_fault_spec(args.faults),
        pacing=Pacing(realtime=True, speed=1.0),
        batch_size=args.meters * 5,
        progress_every=30.0,
    )
    if not args.keep:
        reset_lake(lake)
    lake.ensure()
    spark = dbt_runner.start_spark(lake)
    report = LiveReport()
    # dbt needs its tables before the first refresh: the seeds and a first run of every model.
    dbt_runner.build(lake, spark=spark, command="seed")
    dbt_runner.build(lake, spark=spark, command="run")

    stop_producer = threading.Event()
    stop_ingest = threading.Event()
    produced: dict[str, int] = {}

    def producer_loop() -> None:
        summary = produce(options, lake, clock=StoppableClock(stop_producer))
        produced["events"] = summary.events_sent

    ingest_config = IngestConfig(
        lake=lake, trigger="continuous", interval_seconds=args.ingest_every
    )
    threads = [
        _run_thread("producer", producer_loop, report.errors),
        _run_thread(
            "ingest",
            lambda: run_ingest(ingest_config, spark=spark, stop_event=stop_ingest),
            report.errors,
        ),
    ]
    rate = args.meters / options.interval.total_seconds()
    print(
        f"live: {args.meters} meters every {options.interval.total_seconds():g} s "
        f"(~{rate:,.0f} events/s), ingest every {args.ingest_every:g} s, "
        f"refresh every {args.refresh:g} s; Ctrl-C stops",
        file=out,
        flush=True,
    )
    started = time.monotonic()
    # Ctrl-C (or SIGTERM) asks for a stop; the loop finishes its current step, so a dbt run is
    # never cut in half, then everything is drained below.
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    try:
        number = 0
        while (
            not stop.is_set()
            and not report.errors
            and (run_for is None or time.monotonic() - started < run_for)
        ):
            cycle = time.monotonic()
            number += 1
            dbt_runner.build(lake, spark=spark, command="run")
            dbt_runner.export_csv(lake, spark=spark)
            build_dashboard(
                spark, lake, refresh_seconds=max(5, int(args.refresh)), allow_missing=True
            )
            rows, newest = _newest_curated(spark, lake)
            finished = datetime.now(timezone.utc)
            age = (finished - newest).total_seconds() if newest else None
            refresh = Refresh(number, finished, time.monotonic() - cycle, rows, age)
            report.refreshes.append(refresh)
            print(
                f"refresh {number}: {rows:,} curated readings, took {refresh.seconds:.1f} s, "
                + (f"newest reading {age:.1f} s old" if age is not None else "no readings yet"),
                file=out,
                flush=True,
            )
            # Wait out the rest of the period; a stop request interrupts the wait.
            stop.wait(max(0.0, args.refresh - (time.monotonic() - cycle)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print(
            "stopping: flushing the producer, finishing the running micro-batch ...",
            file=out,
            flush=True,
        )
        stop_producer.set()
        threads[0].join()
        stop_ingest.set()
        threads[1].join()

    # Catch up on what landed after the last micro-batch, then a full build with tests.
    run_ingest(IngestConfig(lake=lake), spark=spark)
    dbt_runner.build(lake, spark=spark)
    dbt_runner.export_csv(lake, spark=spark)
    dashboard = build_dashboard(spark, lake)
    counts = table_counts(spark, ingest_config)
    report.produced = produced.get("events", 0)
    report.raw = counts.raw
    _print_live_summary(report, dashboard, out)
    if report.errors:
        raise SmartgridError("; ".join(report.errors), exit_code=1)
    return report


def _print_live_summary(report: LiveReport, dashboard, out) -> None:
    fresh = report.freshness()
    print("\nlive summary", file=out)
    print(f"  events produced          {report.produced:,}", file=out)
    print(f"  events in raw            {report.raw:,}", file=out)
    print(f"  refreshes                {len(report.refreshes)}", file=out)
    if fresh:
        print(
            f"  freshness (send -> curated, at refresh end): median {statistics.median(fresh):.1f} s,"
            f" max {max(fresh):.1f} s",
            file=out,
        )
    print(f"  dashboard                {dashboard}", file=out)
    lost = report.produced - report.raw
    print(f"  lost                     {max(lost, 0):,}", file=out)


def add_live_options(demo: argparse.ArgumentParser) -> None:
    live = demo.add_argument_group("live mode (--live)")
    live.add_argument(
        "--refresh", type=float, default=20.0, help="seconds between dbt refreshes (default 20)"
    )
    live.add_argument(
        "--ingest-every", type=float, default=5.0, help="micro-batch interval, seconds (default 5)"
    )
    live.add_argument(
        "--for",
        dest="run_for",
        type=float,
        default=None,
        help="stop after this many seconds (default: until Ctrl-C)",
    )
