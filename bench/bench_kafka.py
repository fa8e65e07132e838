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
from datetime import timedelta

from _common import (
    add_record_option,
    add_sweep_option,
    fit_rate,
    positive_int,
    rate,
    record_if_asked,
    sizes,
    work_dir,
)

from ingest.config import IngestConfig
from ingest.job import run_ingest
from kafka_broker import create_topic, running_broker
from producer.faults import parse_fault_spec
from producer.options import ProduceOptions
from producer.run import produce
from producer.sinks import make_sink
from smartgrid.lake import Lake

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
    per_second = rate(events, seconds)
    print(f"  {name:<34} {events:>10,} events {seconds:>7.2f} s {per_second:>12,.0f} events/s")
    return per_second


def run(events: int, seed: int, bootstrap: str | None, partitions: int) -> dict:
    from ingest.job import build_ingest_spark

    with work_dir(None, "smartgrid-bench-kafka-") as tmp:
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
    parser.add_argument("--events", type=positive_int, default=500_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--partitions", type=positive_int, default=4)
    parser.add_argument("--bootstrap", help="use this running broker instead of starting one")
    add_sweep_option(parser, "event counts for the size sweep")
    add_record_option(parser, "the Kafka ingest's rate per core and fixed cost")
    args = parser.parse_args()
    if not args.sweep:
        run(args.events, args.seed, args.bootstrap, args.partitions)
        return 0
    from measured import master_cores

    points = [run(n, args.seed, args.bootstrap, args.partitions) for n in sizes(args.sweep)]
    cores = master_cores()
    figures = {}
    for source in ("files", "kafka"):
        fit = fit_rate(
            source, [p["events"] for p in points], [p[f"{source}_seconds"] for p in points]
        )
        if fit is None:
            return 1
        fixed, events_rate = fit
        print(
            f"{source} fit at local[{cores}]: seconds = {fixed:.2f} + events / {events_rate:,.0f} "
            f"-> {events_rate / cores:,.0f} events/s per core"
        )
        if source == "kafka":
            figures = {
                "kafka_ingest_events_per_second_per_core": events_rate / cores,
                "kafka_ingest_fixed_seconds": max(fixed, 0.0),
            }
    record_if_asked(
        args,
        figures,
        f"bench/bench_kafka.py --sweep {args.sweep} --partitions {args.partitions}: "
        f"least squares at local[{cores}]",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
