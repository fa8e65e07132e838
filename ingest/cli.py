"""``smartgrid ingest``: parse options into an IngestConfig, run the job, print a summary."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

from ingest.config import SOURCES, STARTING_OFFSETS, TRIGGERS, IngestConfig
from ingest.rules import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_FUTURE_SKEW_SECONDS, ValidationConfig
from smartgrid.durations import parse_duration
from smartgrid.lake import Lake
from smartgrid.lake_checks import Need


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "ingest",
        parents=[common],
        help="stream events from the event hub into Delta (raw, validated, quarantine)",
        description=(
            "Read events from the landing directory of the embedded event hub (--source local) "
            "or from Kafka / Azure Event Hubs (--source kafka; EVENTHUB_NAMESPACE and "
            "EVENTHUB_CONNECTION_STR when --kafka-bootstrap is not given), validate them and "
            "append them exactly once to the raw, validated and quarantine Delta tables."
        ),
    )
    parser.add_argument("--source", choices=SOURCES, default="local")
    parser.add_argument(
        "--trigger",
        choices=TRIGGERS,
        default="available-now",
        help="available-now: process what is there and stop; continuous: run until Ctrl-C/SIGTERM",
    )
    parser.add_argument(
        "--interval", default="5s", help="micro-batch interval of --trigger continuous (5s)"
    )
    parser.add_argument("--max-files-per-trigger", type=int, metavar="N")
    parser.add_argument("--max-offsets-per-trigger", type=int, metavar="N")
    parser.add_argument(
        "--starting-offsets",
        metavar="|".join(STARTING_OFFSETS),
        help="where a new Kafka query starts (default earliest; a JSON object of offsets works)",
    )
    parser.add_argument("--kafka-bootstrap", metavar="HOST:PORT")
    parser.add_argument("--topic", help="Kafka topic / event hub name (default $EVENTHUB_NAME)")
    for table in ("landing", "raw", "validated", "quarantine", "checkpoint"):
        parser.add_argument(
            f"--{table}-path", metavar="PATH", help=f"override the lake's default {table} location"
        )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        help=f"larger events are quarantined as too_large ({DEFAULT_MAX_BODY_BYTES})",
    )
    parser.add_argument(
        "--max-future-skew",
        default=f"{DEFAULT_MAX_FUTURE_SKEW_SECONDS:g}s",
        help="readings later than now + this are quarantined as future_timestamp (300s)",
    )
    parser.add_argument(
        "--driver-memory", help="Spark driver memory (default $SMARTGRID_DRIVER_MEMORY or 4g)"
    )
    parser.set_defaults(func=handle, lake_need=Need.CREATE)


def config_from_args(
    args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> tuple[IngestConfig, ValidationConfig]:
    """Build both configurations; raises SmartgridError on a bad option, before any work."""
    from ingest.sources import EVENTHUB_CONNECTION_STR_ENV, eventhub_name, eventhubs_kafka_options

    env = os.environ if env is None else env
    bootstrap, topic, kafka_options = args.kafka_bootstrap, args.topic, ()
    if args.source == "kafka":
        if not bootstrap and env.get(EVENTHUB_CONNECTION_STR_ENV):
            options = eventhubs_kafka_options(env)
            bootstrap = str(options.pop("kafka.bootstrap.servers"))
            kafka_options = tuple(options.items())
        topic = topic or eventhub_name(env)
    config = IngestConfig(
        lake=Lake.resolve(args.lake),
        source=args.source,
        trigger=args.trigger,
        interval_seconds=parse_duration(args.interval, name="--interval").total_seconds(),
        max_files_per_trigger=args.max_files_per_trigger,
        max_offsets_per_trigger=args.max_offsets_per_trigger,
        starting_offsets=args.starting_offsets,
        landing_path=args.landing_path,
        raw_path=args.raw_path,
        validated_path=args.validated_path,
        quarantine_path=args.quarantine_path,
        checkpoint_path=args.checkpoint_path,
        kafka_bootstrap=bootstrap,
        topic=topic,
        kafka_options=kafka_options,
        driver_memory=args.driver_memory,
    )
    validation = ValidationConfig(
        max_body_bytes=args.max_body_bytes,
        max_future_skew_seconds=parse_duration(
            args.max_future_skew, name="--max-future-skew", allow_zero=True
        ).total_seconds(),
    )
    return config, validation


def handle(args: argparse.Namespace) -> int:
    config, validation = config_from_args(args)  # refuses bad options before Spark starts
    from ingest.job import build_ingest_spark, run_ingest, table_counts

    spark = build_ingest_spark(config)
    try:
        summary = run_ingest(config, validation, spark=spark)
        print(summary.format())
        print(table_counts(spark, config).format())
        sys.stdout.flush()
    finally:
        spark.stop()
    return 0
