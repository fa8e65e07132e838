"""Benchmark: the Kafka path beside the local event hub, measured in the same run.

    .venv/bin/python bench/bench_kafka.py --events 500000

Starts a local Kafka broker (KRaft, a free port on 127.0.0.1; or uses ``--bootstrap``), then:

1. producer: the same seeded fleet (with faults) sent by the local sink (landing files) and by
   the kafka sink (idempotent, lz4, keyed by meter id, every delivery acknowledged); events/s of
   each and the ratio kafka / local;
2. ingest: in one SparkSession (Delta + Kafka connector), the availableNow ingest of those events
   into raw/validated/quarantine, from the landing files and from the topic; events/s of each and
   the ratio kafka / local. A small warm-up ingest runs first so neither pays for JIT warm-up.

Timings exclude broker and JVM start-up. The machine's cores may be shared: run it twice if the
figures look off.

The size sweep for the capacity model (docs/capacity.md) repeats this at each size and fits
seconds = fixed + events / rate by least squares, for the Kafka source and the landing files:

    .venv/bin/python bench/bench_kafka.py --sweep 250000,500000,1000000,2000000 --record
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.config import IngestConfig  # noqa: E402
from ingest.job import run_ingest  # noqa: E402
from kafka_broker import create_topic, running_broker  # noqa: E402
from producer.faults import parse_fault_spec  # noqa: E402
from producer.options import ProduceOptions  # noqa: E402
from producer.run import produce  # noqa: E402
from producer.sinks import make_sink  # noqa: E402
from smartgrid.lake import Lake  # noqa: E402

TOPIC = "bench-meter-readings"
FAULTS = "duplicate=0.005,late=0.005,malformed=0.002,voltage=0.002"
METERS = 1000


def _options(events: int, seed: int, meters: int = METERS) -> ProduceOptions:
    steps = max(1, -(-events // meters))
    return ProduceOptions(
        meters=meters,
        duration=timedelta(minutes=15 * steps),
        interval=timedelta(minutes=15),
        seed=seed,
        faults=parse_fault_spec(FAULTS),
        progress_every=3600.0,
    )


def _row(name: str, events: int, seconds: float) -> float:
    rate = events / seconds if seconds > 0 else 0.0
    print(f"  {name:<34} {events:>10,} events {seconds:>7.2f} s {rate:>12,.0f} events/s")
    return rate


def run(events: int, seed: int, bootstrap: str | None, partitions: int) -> dict:
    from ingest.job import build_ingest_spark

    with tempfile.TemporaryDirectory(prefix="smartgrid-bench-kafka-") as tmp:
        broker_lake = Lake.resolve(f"{tmp}/broker")
        with contextlib.ExitStack() as stack:
            if bootstrap is None:
                info = stack.enter_context(running_broker(broker_lake, partitions=partitions))
                bootstrap = info.bootstrap
            create_topic(bootstrap, TOPIC, partitions)
            local = Lake.resolve(f"{tmp}/local").ensure()
            via_kafka = Lake.resolve(f"{tmp}/kafka").ensure()
            options = _options(events, seed)

            print(f"producer: {options.meters} meters x {options.steps} readings, faults {FAULTS}")
            produced_local = produce(options, local)
            sink = make_sink("kafka", via_kafka, kafka_bootstrap=bootstrap, topic=TOPIC)
            produced_kafka = produce(options, via_kafka, sink)
            assert produced_local.events_sent == produced_kafka.events_sent == sink.delivered
            local_rate = _row(
                "local event hub (landing files)",
                produced_local.events_sent,
                produced_local.seconds,
            )
            kafka_rate = _row(
                f"kafka ({partitions} partitions)",
                produced_kafka.events_sent,
                produced_kafka.seconds,
            )
            print(f"  ratio kafka / local: {kafka_rate / local_rate:.2f}")

            kafka_config = IngestConfig(
                lake=via_kafka, source="kafka", kafka_bootstrap=bootstrap, topic=TOPIC
            )
            # The ingest job's own session settings, with the Kafka connector.
            spark = build_ingest_spark(kafka_config)
            try:
                warm = Lake.resolve(f"{tmp}/warm").ensure()
                produce(_options(20_000, seed + 1), warm)
                run_ingest(IngestConfig(lake=warm), spark=spark)

                print("ingest (availableNow -> raw, validated, quarantine):")
                from_files = run_ingest(IngestConfig(lake=local), spark=spark)
                from_kafka = run_ingest(kafka_config, spark=spark)
            finally:
                spark.stop()
            assert from_files.raw == from_kafka.raw == produced_local.events_sent
            local_rate = _row("local event hub (landing files)", from_files.raw, from_files.seconds)
            kafka_rate = _row(
                f"kafka ({partitions} partitions)", from_kafka.raw, from_kafka.seconds
            )
            print(f"  ratio kafka / local: {kafka_rate / local_rate:.2f}")
            return {
                "events": from_files.raw,
                "files_seconds": from_files.seconds,
                "kafka_seconds": from_kafka.seconds,
            }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--bootstrap", help="use this running broker instead of starting one")
    parser.add_argument("--sweep", metavar="N,N,...", help="event counts for the size sweep")
    parser.add_argument(
        "--record",
        nargs="?",
        const="",
        metavar="PATH",
        help="write the Kafka ingest's rate per core and fixed cost into capacity/measured.json",
    )
    args = parser.parse_args()
    if not args.sweep:
        run(args.events, args.seed, args.bootstrap, args.partitions)
        return 0
    from measured import fit_line, master_cores, record

    points = [
        run(int(n), args.seed, args.bootstrap, args.partitions) for n in args.sweep.split(",")
    ]
    cores = master_cores()
    figures = {}
    for source in ("files", "kafka"):
        fixed, slope = fit_line(
            [p["events"] for p in points], [p[f"{source}_seconds"] for p in points]
        )
        if slope <= 0:
            print(f"{source}: time does not grow with size; sizes too small or machine busy")
            return 1
        print(
            f"{source} fit at local[{cores}]: seconds = {fixed:.2f} + events / {1 / slope:,.0f} "
            f"-> {1 / slope / cores:,.0f} events/s per core"
        )
        if source == "kafka":
            figures = {
                "kafka_ingest_events_per_second_per_core": 1 / slope / cores,
                "kafka_ingest_fixed_seconds": max(fixed, 0.0),
            }
    if args.record is not None:
        record(
            figures,
            f"bench/bench_kafka.py --sweep {args.sweep} --partitions {args.partitions}: "
            f"least squares at local[{cores}]",
            path=Path(args.record) if args.record else None,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
