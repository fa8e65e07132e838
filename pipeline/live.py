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


@dataclass(frozen=True)
class LiveOptions:
    """What ``smartgrid demo --live`` runs with; filled from the command line by ``from_args``."""

    lake: str | None = None
    meters: int = 1000
    interval: str = "1s"
    seed: int = 42
    faults: str = ""
    keep: bool = False
    refresh: float = 20.0
    ingest_every: float = 5.0
    run_for: float | None = None

    def __post_init__(self) -> None:
        if self.refresh <= 0:
            raise SmartgridError(f"--refresh {self.refresh} must be positive seconds")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> LiveOptions:
        return cls(
            lake=args.lake,
            meters=args.meters,
            interval=args.interval,
            seed=args.seed,
            faults=args.faults,
            keep=args.keep,
            refresh=args.refresh,
            ingest_every=args.ingest_every,
            run_for=args.run_for,
        )


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


def _run_thread(name: str, target, errors: list[str]) -> threading.Thread:
    def body() -> None:
        try:
            target()
        except BaseException as exc:  # reported by the main loop, which stops everything
            errors.append(f"{name}: {exc}")

    thread = threading.Thread(target=body, name=name, daemon=True)
    thread.start()
    return thread


def run_live(live: LiveOptions, out=None) -> LiveReport:
    # Imported here: `smartgrid --help` and `smartgrid produce` need no Spark.
    from pipeline import stages
    from producer.faults import parse_fault_spec
    from producer.pacing import Pacing

    out = out or sys.stdout
    lake = Lake.resolve(live.lake)
    run_for = live.run_for
    options = stages.ProduceOptions(
        meters=live.meters,
        interval=stages.interval(live.interval),
        # Long enough to outlast any session; Ctrl-C or --for ends it.
        duration=timedelta(days=365),
        seed=live.seed,
        faults=parse_fault_spec(live.faults),
        pacing=Pacing(realtime=True, speed=1.0),
        batch_size=live.meters * 5,
        progress_every=30.0,
    )
    if not live.keep:
        stages.reset_lake(lake)
    lake.ensure()
    spark = stages.start_spark(lake)
    report = LiveReport()
    # dbt needs its tables before the first refresh: the seeds and a first run of every model.
    stages.build(lake, spark, command="seed")
    stages.build(lake, spark, command="run")

    stop_producer = threading.Event()
    stop_ingest = threading.Event()
    produced: dict[str, int] = {}

    def producer_loop() -> None:
        summary = stages.produce(options, lake, clock=StoppableClock(stop_producer))
        produced["events"] = summary.events_sent

    ingest_config = stages.IngestConfig(
        lake=lake, trigger="continuous", interval_seconds=live.ingest_every
    )
    threads = [
        _run_thread("producer", producer_loop, report.errors),
        _run_thread(
            "ingest",
            lambda: stages.ingest(ingest_config, spark, stop_event=stop_ingest),
            report.errors,
        ),
    ]
    rate = live.meters / options.interval.total_seconds()
    print(
        f"live: {live.meters} meters every {options.interval.total_seconds():g} s "
        f"(~{rate:,.0f} events/s), ingest every {live.ingest_every:g} s, "
        f"refresh every {live.refresh:g} s; Ctrl-C stops",
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
            stages.build(lake, spark, command="run")
            stages.export(lake, spark)
            stages.report(
                spark, lake, refresh_seconds=max(5, int(live.refresh)), allow_missing=True
            )
            rows, newest = stages.newest_curated(spark, lake)
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
            stop.wait(max(0.0, live.refresh - (time.monotonic() - cycle)))
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
    stages.ingest(stages.IngestConfig(lake=lake), spark)
    stages.build(lake, spark)
    stages.export(lake, spark)
    dashboard = stages.report(spark, lake)
    counts = stages.counts(spark, ingest_config)
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
