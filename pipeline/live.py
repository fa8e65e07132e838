"""``smartgrid demo --live``: the pipeline running continuously, with freshness measured.

Three loops share one process and one SparkSession:

  producer thread  paced to the wall clock (speed 1: a reading is sent at its own timestamp)
  ingest thread    Structured Streaming with a processing-time trigger (``--ingest-every``, 5 s)
                   into raw/validated/quarantine
  main thread      refreshes back to back: as soon as the previous one has ended and a new
                   micro-batch has committed rows (and at least ``--refresh`` seconds after the
                   previous one started; default 0), an incremental ``dbt run`` of the models the
                   live view reads (``LIVE_MARTS`` and their parents, views left out), the CSV
                   export, the dashboard. dbt's parsed manifest is reused between refreshes.

Freshness (pipeline/freshness.py): at speed 1 a reading's timestamp is its send time, so the
typical figure is ``refresh end - newest curated reading``, and the worst case, an event sent
just after the previous refresh's newest reading, is ``refresh end - previous newest``.

Ctrl-C (or ``--for``) stops the producer (its last batch is flushed), lets the running
micro-batch commit, catches up whatever landed since with an availableNow run, and finishes with
a full ``dbt build`` (models and tests): nothing that was sent is lost.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from dashboard.load import REQUIRED_TABLES as DASHBOARD_TABLES
from pipeline.freshness import Freshness, RefreshPoint, measure, worst_waits
from producer.pacing import SystemClock
from smartgrid import catalog
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake
from smartgrid.options import nonnegative_float, positive_float

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# The marts the live view reads: the dashboard's (its required tables and its data-quality panel,
# dashboard/load.py) and the CSV export's relation. A refresh builds these and their parents.
LIVE_MARTS = tuple(
    dict.fromkeys(
        (
            *DASHBOARD_TABLES,
            catalog.INGEST_DAILY,
            catalog.QUARANTINE_REASONS,
            catalog.EXPORT_RELATION,
        )
    )
)
LIVE_SELECT = " ".join(f"+{mart}" for mart in LIVE_MARTS)
# Views (staging) need no rebuild: the first full run defines them and they read live tables.
LIVE_EXCLUDE = "config.materialized:view"
FRESHNESS_GOAL_SECONDS = 60.0


@dataclass(frozen=True)
class LiveOptions:
    """What ``smartgrid demo --live`` runs with; filled from the command line by ``from_args``."""

    lake: str | None = None
    meters: int = 1000
    interval: str = "1s"
    seed: int = 42
    faults: str = ""
    keep: bool = False
    refresh: float = 0.0  # the least time from one refresh's start to the next's
    ingest_every: float = 5.0
    run_for: float | None = None
    # The previous behaviour, kept for bench/bench_live.py's baseline: every model each refresh,
    # refreshes on a fixed period whether or not data landed, dbt parsing each time.
    all_models: bool = False
    wait_for_data: bool = True
    reuse_manifest: bool = True
    # False: stop after the last refresh, without the catch-up and the full build with tests
    # (bench/bench_live.py, which measures the refreshes only).
    finish: bool = True

    def __post_init__(self) -> None:
        if self.refresh < 0:
            raise SmartgridError(f"--refresh {self.refresh} must be zero or positive seconds")
        if self.ingest_every <= 0:
            raise SmartgridError(f"--ingest-every {self.ingest_every} must be positive seconds")

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
    newest: datetime | None
    freshness_seconds: float | None  # the newest curated reading's age at the refresh's end
    worst_seconds: float | None = None  # the longest any event this refresh showed had waited
    dbt_seconds: float = 0.0
    export_seconds: float = 0.0
    dashboard_seconds: float = 0.0

    @property
    def point(self) -> RefreshPoint:
        return RefreshPoint(self.finished_at, self.newest)


@dataclass
class LiveReport:
    refreshes: list[Refresh] = field(default_factory=list)
    produced: int = 0
    raw: int = 0
    errors: list[str] = field(default_factory=list)
    sending_since: datetime | None = None  # when the producer started

    def freshness(self) -> Freshness:
        # The first refresh includes start-up; it says nothing about steady-state freshness.
        return measure([r.point for r in self.refreshes], self.sending_since)


def _run_thread(name: str, target, errors: list[str]) -> threading.Thread:
    def body() -> None:
        try:
            target()
        except BaseException as exc:  # reported by the main loop, which stops everything
            errors.append(f"{name}: {exc}")

    thread = threading.Thread(target=body, name=name, daemon=True)
    thread.start()
    return thread


def _landed_listener(spark, landed: threading.Event):
    """A StreamingQueryListener that sets ``landed`` when an ingest micro-batch has committed rows.

    Spark reports a query's progress after the batch's sink (the Delta writes) has committed, so
    a refresh started after ``landed`` is set reads those rows.
    """
    from pyspark.sql.streaming import StreamingQueryListener

    class Landed(StreamingQueryListener):
        def onQueryStarted(self, event) -> None:
            pass

        def onQueryProgress(self, event) -> None:
            progress = event.progress
            if (progress.name or "").startswith("smartgrid_ingest") and progress.numInputRows > 0:
                landed.set()

        def onQueryIdle(self, event) -> None:
            pass

        def onQueryTerminated(self, event) -> None:
            landed.set()  # wakes a waiting refresh; the loop then sees the ingest's error or stop

    listener = Landed()
    spark.streams.addListener(listener)
    return listener


def run_live(live: LiveOptions, out=None) -> LiveReport:
    # Imported here: `smartgrid --help` and `smartgrid produce` need no Spark.
    from pipeline import stages
    from producer.faults import parse_fault_spec
    from producer.pacing import Pacing
    from transform import runner

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
    # Parsed once: every refresh runs the same project with the same vars.
    manifest = runner.parse_manifest(lake) if live.reuse_manifest else None
    select, exclude = (None, None) if live.all_models else (LIVE_SELECT, LIVE_EXCLUDE)

    stop_producer = threading.Event()
    stop_ingest = threading.Event()
    landed = threading.Event()
    listener = _landed_listener(spark, landed) if live.wait_for_data else None
    produced: dict[str, int] = {}

    def producer_loop() -> None:
        summary = stages.produce(options, lake, clock=StoppableClock(stop_producer))
        produced["events"] = summary.events_sent

    ingest_config = stages.IngestConfig(
        lake=lake, trigger="continuous", interval_seconds=live.ingest_every
    )
    report.sending_since = datetime.now(timezone.utc)
    threads = [
        _run_thread("producer", producer_loop, report.errors),
        _run_thread(
            "ingest",
            lambda: stages.ingest(ingest_config, spark, stop_event=stop_ingest),
            report.errors,
        ),
    ]
    rate = live.meters / options.interval.total_seconds()
    when = (
        "as soon as the previous one ended and new data landed"
        if live.wait_for_data
        else f"every {live.refresh:g} s"
    )
    if live.wait_for_data and live.refresh > 0:
        when += f", at least {live.refresh:g} s apart"
    models = "every model" if live.all_models else f"{len(LIVE_MARTS)} live marts and parents"
    print(
        f"live: {live.meters} meters every {options.interval.total_seconds():g} s "
        f"(~{rate:,.0f} events/s), ingest every {live.ingest_every:g} s, "
        f"refresh ({models}) {when}; Ctrl-C stops",
        file=out,
        flush=True,
    )
    started = time.monotonic()
    # Ctrl-C (or SIGTERM) asks for a stop; the loop finishes its current step, so a dbt run is
    # never cut in half, then everything is drained below.
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}

    def running() -> bool:
        return (
            not stop.is_set()
            and not report.errors
            and (run_for is None or time.monotonic() - started < run_for)
        )

    def wait(seconds: float) -> None:
        if run_for is not None:
            seconds = min(seconds, run_for - (time.monotonic() - started))
        stop.wait(max(0.0, seconds))

    try:
        number = 0
        while running():
            if live.wait_for_data:
                # Start once a micro-batch has committed rows since the last refresh began.
                while running() and not landed.wait(0.2):
                    pass
                if not running():
                    break
                landed.clear()  # before dbt reads: rows committed from here on start the next
            cycle = time.monotonic()
            number += 1
            runner.build(
                lake,
                spark=spark,
                command="run",
                select=select,
                exclude=exclude,
                manifest=manifest,
            )
            dbt_done = time.monotonic()
            runner.export_csv(lake, spark=spark, manifest=manifest)
            export_done = time.monotonic()
            stages.report(
                spark, lake, refresh_seconds=max(5, int(live.refresh)), allow_missing=True
            )
            report_done = time.monotonic()
            rows, newest = stages.newest_curated(spark, lake)
            finished = datetime.now(timezone.utc)
            age = (finished - newest).total_seconds() if newest else None
            refresh = Refresh(
                number,
                finished,
                time.monotonic() - cycle,
                rows,
                newest,
                age,
                dbt_seconds=dbt_done - cycle,
                export_seconds=export_done - dbt_done,
                dashboard_seconds=report_done - export_done,
            )
            report.refreshes.append(refresh)
            refresh.worst_seconds = worst_waits(
                [r.point for r in report.refreshes], report.sending_since
            )[-1]
            print(_refresh_line(refresh), file=out, flush=True)
            # Keep refreshes --refresh apart (start to start); a stop request interrupts the wait.
            wait(live.refresh - (time.monotonic() - cycle))
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
        if listener is not None:
            spark.streams.removeListener(listener)

    report.produced = produced.get("events", 0)
    if not live.finish:
        if report.errors:
            raise SmartgridError("; ".join(report.errors), exit_code=1)
        return report
    # Catch up on what landed after the last micro-batch, then a full build with tests.
    stages.ingest(stages.IngestConfig(lake=lake), spark)
    stages.build(lake, spark)
    stages.export(lake, spark)
    dashboard = stages.report(spark, lake)
    counts = stages.counts(spark, ingest_config)
    report.raw = counts.raw
    _print_live_summary(report, dashboard, out)
    if report.errors:
        raise SmartgridError("; ".join(report.errors), exit_code=1)
    return report


def _refresh_line(refresh: Refresh) -> str:
    line = (
        f"refresh {refresh.number}: {refresh.curated_rows:,} curated readings, "
        f"took {refresh.seconds:.1f} s (dbt {refresh.dbt_seconds:.1f}, "
        f"csv {refresh.export_seconds:.1f}, dashboard {refresh.dashboard_seconds:.1f}), "
    )
    if refresh.freshness_seconds is None:
        return line + "no readings yet"
    line += f"newest reading {refresh.freshness_seconds:.1f} s old"
    if refresh.worst_seconds is not None:
        line += f", oldest new event waited {refresh.worst_seconds:.1f} s"
    return line


def _print_live_summary(report: LiveReport, dashboard, out) -> None:
    fresh = report.freshness()
    print("\nlive summary", file=out)
    print(f"  events produced          {report.produced:,}", file=out)
    print(f"  events in raw            {report.raw:,}", file=out)
    print(f"  refreshes                {len(report.refreshes)}", file=out)
    if fresh.typical:
        print(
            f"  freshness, typical       newest curated reading at refresh end: median "
            f"{fresh.typical_median:.1f} s, p95 {fresh.typical_p95:.1f} s",
            file=out,
        )
    if fresh.worst:
        verdict = "met" if fresh.meets(FRESHNESS_GOAL_SECONDS) else "missed"
        print(
            f"  freshness, worst case    send -> visible in the curated table: max "
            f"{fresh.worst_max:.1f} s (goal < {FRESHNESS_GOAL_SECONDS:g} s: {verdict})",
            file=out,
        )
    print(f"  dashboard                {dashboard}", file=out)
    lost = report.produced - report.raw
    print(f"  lost                     {max(lost, 0):,}", file=out)


def add_live_options(demo: argparse.ArgumentParser) -> None:
    live = demo.add_argument_group("live mode (--live)")
    live.add_argument(
        "--refresh",
        type=nonnegative_float,
        default=0.0,
        help="least seconds from one dbt refresh's start to the next's; a refresh starts as soon "
        "as the previous one ended and new data landed (default 0)",
    )
    live.add_argument(
        "--ingest-every",
        type=positive_float,
        default=5.0,
        help="micro-batch interval, seconds (default 5)",
    )
    live.add_argument(
        "--for",
        dest="run_for",
        type=positive_float,
        default=None,
        help="stop after this many seconds (default: until Ctrl-C)",
    )
