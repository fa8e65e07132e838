"""``smartgrid demo``: the main job, end to end on one machine.

produce -> local event hub -> ingest (availableNow) -> dbt build -> CSV export -> dashboard,
in one process and one SparkSession (Hive-enabled for dbt; the ingest writes Delta by path).
``--live`` runs the same stages (pipeline/stages.py) continuously (see pipeline/live.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.live import LiveOptions, add_live_options
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake
from smartgrid.lake_checks import Need
from smartgrid.options import positive_float
from smartgrid.progress import Progress

# A small share of every fault kind, so the demo shows quarantine, dedup and anomalies.
DEFAULT_DEMO_FAULTS = "duplicate=0.005,late=0.005,malformed=0.002,voltage=0.002"
# --source kafka: the topic the demo (re)creates on the local broker.
KAFKA_DEMO_TOPIC = "smartgrid-demo"
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEMO_METERS, DEMO_INTERVAL = 100, "1m"
LIVE_METERS, LIVE_INTERVAL = 1000, "1s"


@dataclass
class DemoReport:
    """What the demo measured, stage by stage; printed at the end and returned to callers."""

    stages: dict[str, float] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def stage(
        self, number: int, total: int, name: str, out=None, *, unit: str = ""
    ) -> Iterator[Progress]:
        """One line per stage, ``[n/N] name: done in X s``; the stage may report progress
        (one updating line on a terminal, a line every few seconds otherwise)."""
        out = out or sys.stderr
        label = f"[{number}/{total}] {name}"
        progress = Progress(label, unit=unit, stream=out)
        progress.start()
        started = time.monotonic()
        yield progress
        self.stages[name] = time.monotonic() - started
        progress.clear()
        print(f"{label}: done in {self.stages[name]:.1f} s", file=out, flush=True)

    @property
    def total_seconds(self) -> float:
        return sum(self.stages.values())


def run_demo(
    args: argparse.Namespace, out=None, *, kafka_bootstrap: str | None = None
) -> DemoReport:
    out = out or sys.stdout
    # Imported here: `smartgrid --help` and `smartgrid produce` need no Spark.
    from pipeline import stages
    from producer.faults import parse_fault_spec

    lake = Lake.resolve(args.lake)
    # Every option is checked before any work starts (ProduceOptions refuses bad values).
    options = stages.ProduceOptions(
        meters=args.meters,
        duration=_duration(args.days),
        interval=stages.interval(args.interval),
        seed=args.seed,
        faults=parse_fault_spec(args.faults),
    )
    total = 6 if args.docs else 5
    report = DemoReport()
    if not args.keep:
        stages.reset_lake(lake)
    lake.ensure()
    step = _counter(total)
    ingest_config, sink, hub = stages.IngestConfig(lake=lake), None, "the local event hub"
    if kafka_bootstrap:  # --source kafka: the same stages through a real Kafka broker
        ingest_config, sink, hub = _kafka_hub(lake, kafka_bootstrap, fresh=not args.keep)

    with report.stage(*step(f"produce the fleet into {hub}"), unit="events") as progress:
        produced = stages.produce(options, lake, sink, progress=progress)
    report.facts["events produced"] = produced.events_sent
    report.facts["faults injected"] = produced.faults

    spark = stages.start_spark(lake)
    with report.stage(
        *step("ingest: Structured Streaming, availableNow -> Delta"), unit="batches"
    ) as progress:
        ingested = stages.ingest(
            ingest_config,
            spark,
            progress=lambda batches, rows: progress.update(batches, detail=f"{rows:,} events"),
        )
    counts = stages.counts(spark, ingest_config)
    report.facts.update(
        {
            "raw": counts.raw,
            "validated": counts.validated,
            "quarantined": counts.quarantined,
            "quarantined by reason": counts.reasons,
            "ingest events/s": round(ingested.events_per_second),
        }
    )
    with report.stage(
        *step("dbt build: staging -> clean -> curated marts, with data tests"), unit="nodes"
    ) as progress:
        stages.build(lake, spark, progress=progress.update, unit_tests=False)
    with report.stage(*step("export the curated CSV for Power BI")):
        csv_path = stages.export(lake, spark)
    with report.stage(*step("render the dashboard")):
        dashboard = stages.report(spark, lake)
    if args.docs:
        with report.stage(*step("dbt docs generate (lineage)")):
            stages.docs(lake, spark)
    report.facts.update(stages.curated_facts(spark, lake))
    report.facts["csv"] = str(csv_path)
    report.facts["dashboard"] = str(dashboard)
    if args.docs:
        report.facts["dbt docs"] = str(PROJECT_DIR / "target" / "index.html")
    print_summary(report, out)
    return report


def print_summary(report: DemoReport, out) -> None:
    print("\nsummary", file=out)
    for key, value in report.facts.items():
        if isinstance(value, dict):
            print(f"  {key}:", file=out)
            for sub, count in value.items():
                print(f"    {sub:<32} {count:>12,}", file=out)
        elif isinstance(value, int | float):
            print(f"  {key:<34} {value:>12,}", file=out)
        else:
            print(f"  {key:<34} {value}", file=out)
    print(f"  {'total time':<34} {report.total_seconds:>11.1f}s", file=out)
    if "dbt docs" in report.facts:
        print("  browse the lineage: . .venv/bin/activate && dbt docs serve", file=out)


def _counter(total: int) -> Callable[[str], tuple[int, int, str]]:
    number = 0

    def step(name: str) -> tuple[int, int, str]:
        nonlocal number
        number += 1
        return number, total, name

    return step


def _duration(days: float):
    from datetime import timedelta

    if days <= 0:
        raise SmartgridError(f"--days {days} must be positive")
    return timedelta(days=days)


def _kafka_hub(lake: Lake, bootstrap: str, *, fresh: bool):
    """Topic, sink and ingest configuration of ``--source kafka`` (the broker already runs)."""
    from ingest.config import IngestConfig
    from kafka_broker import recreate_topic
    from producer.sinks import make_sink
    from smartgrid.spark import build_spark

    if fresh:  # like the reset lake: the demo's events only
        recreate_topic(bootstrap, KAFKA_DEMO_TOPIC)
    sink = make_sink("kafka", lake, kafka_bootstrap=bootstrap, topic=KAFKA_DEMO_TOPIC)
    config = IngestConfig(
        lake=lake, source="kafka", kafka_bootstrap=bootstrap, topic=KAFKA_DEMO_TOPIC
    )
    # Spark's Kafka connector must be on the classpath when the session starts (dbt reuses it).
    build_spark(lake, "smartgrid-dbt", hive=True, kafka=True)
    return config, sink, f"Kafka topic {KAFKA_DEMO_TOPIC!r} at {bootstrap}"


def _handler(args: argparse.Namespace) -> int:
    # Each mode has its own defaults: a week of minutes in batch, 1,000 events/s live.
    if args.meters is None:
        args.meters = LIVE_METERS if args.live else DEMO_METERS
    if args.interval is None:
        args.interval = LIVE_INTERVAL if args.live else DEMO_INTERVAL
    if args.live:
        if args.source != "local":
            raise SmartgridError("--live runs on the local event hub; drop --source kafka")
        from pipeline.live import run_live

        run_live(LiveOptions.from_args(args))
    elif args.source == "kafka":
        from kafka_broker import broker_for

        # The lake's broker: the running one, or one started now and stopped at the end.
        with broker_for(Lake.resolve(args.lake)) as (broker, _started):
            run_demo(args, kafka_bootstrap=broker.bootstrap)
    else:
        run_demo(args)
    return 0


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    demo = subparsers.add_parser(
        "demo",
        parents=[common],
        help="run the whole pipeline locally (the main job)",
        description="produce -> local event hub -> ingest -> dbt build -> CSV -> dashboard",
    )
    demo.add_argument(
        "--meters", type=int, help="fleet size (default 100; live: 1000, i.e. 1,000 events/s)"
    )
    demo.add_argument("--days", type=positive_float, default=7, help="simulated days (default 7)")
    demo.add_argument("--interval", help="time between a meter's readings (default 1m; live: 1s)")
    demo.add_argument("--seed", type=int, default=42, help="simulator seed (default 42)")
    demo.add_argument(
        "--faults",
        default=DEFAULT_DEMO_FAULTS,
        help=f"injected faults (default {DEFAULT_DEMO_FAULTS})",
    )
    demo.add_argument(
        "--keep", action="store_true", help="keep the lake's previous data (default: reset it)"
    )
    demo.add_argument("--no-docs", dest="docs", action="store_false", help="skip dbt docs generate")
    demo.add_argument("--live", action="store_true", help="stream continuously (Ctrl-C stops)")
    demo.add_argument(
        "--source",
        choices=("local", "kafka"),
        default="local",
        help="local: the embedded event hub (default); kafka: a local Kafka broker on "
        "127.0.0.1:9092 (`smartgrid kafka start`; started and stopped by the demo if not running)",
    )
    add_live_options(demo)
    demo.set_defaults(func=_handler, lake_need=Need.CREATE, lake_lock=True)
