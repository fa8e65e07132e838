"""``smartgrid ingest``: parse options into an IngestConfig, run the job, print a summary."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from datetime import datetime, timezone

from ingest.config import (
    DEFAULT_KAFKA_TIMEOUT_SECONDS,
    SOURCES,
    STARTING_OFFSETS,
    TRIGGERS,
    IngestConfig,
)
from ingest.rules import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FUTURE_SKEW_SECONDS,
    DEFAULT_OLDEST_TIMESTAMP,
    ValidationConfig,
)
from smartgrid.durations import parse_duration
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake
from smartgrid.lake_checks import Need

OLDEST_TIMESTAMP_ENV = "SMARTGRID_OLDEST_TIMESTAMP"
KAFKA_TIMEOUT_ENV = "SMARTGRID_KAFKA_TIMEOUT"
OLDEST_DEFAULT_TEXT = DEFAULT_OLDEST_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?")


def parse_oldest_timestamp(text: str) -> datetime | None:
    """``--oldest-timestamp``: a date or an ISO 8601 instant with its offset, or ``none``."""
    if text.strip().lower() == "none":
        return None
    value = text.strip()
    if _INSTANT.fullmatch(value):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is None:  # a bare date: midnight UTC
                moment = moment.replace(tzinfo=timezone.utc)
            return moment.astimezone(timezone.utc)
    raise SmartgridError(
        "--oldest-timestamp must be a date or an instant like 2000-01-01T00:00:00Z, or none; "
        f"got {text!r}"
    )


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
    parser.add_argument(
        "--kafka-timeout",
        metavar="DURATION",
        help=(
            "fail when no Kafka broker answers within this time, e.g. 30s (default "
            f"${KAFKA_TIMEOUT_ENV} or {DEFAULT_KAFKA_TIMEOUT_SECONDS:g}s)"
        ),
    )
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
        "--oldest-timestamp",
        metavar="INSTANT|none",
        help=(
            "readings before this UTC instant (e.g. 2000-01-01T00:00:00Z) are quarantined as "
            f"too_old_timestamp (default ${OLDEST_TIMESTAMP_ENV} or {OLDEST_DEFAULT_TEXT}; "
            "none: no lower bound)"
        ),
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
        kafka_timeout_seconds=parse_duration(
            getattr(args, "kafka_timeout", None)
            or env.get(KAFKA_TIMEOUT_ENV)
            or f"{DEFAULT_KAFKA_TIMEOUT_SECONDS:g}s",
            name="--kafka-timeout",
        ).total_seconds(),
        driver_memory=args.driver_memory,
    )
    validation = ValidationConfig(
        max_body_bytes=args.max_body_bytes,
        max_future_skew_seconds=parse_duration(
            args.max_future_skew, name="--max-future-skew", allow_zero=True
        ).total_seconds(),
        oldest_timestamp=parse_oldest_timestamp(
            getattr(args, "oldest_timestamp", None)
            or env.get(OLDEST_TIMESTAMP_ENV)
            or OLDEST_DEFAULT_TEXT
        ),
    )
    return config, validation


def handle(args: argparse.Namespace) -> int:
    config, validation = config_from_args(args)  # refuses bad options before Spark starts
    from ingest.failures import check_kafka_reachable
    from ingest.job import build_ingest_spark, run_ingest, table_counts

    check_kafka_reachable(config)  # a Kafka address nobody listens on: one line, no JVM started

    spark = build_ingest_spark(config)
    try:
        summary = run_ingest(config, validation, spark=spark)
        print(summary.format())
        print(table_counts(spark, config).format())
        sys.stdout.flush()
    finally:
        spark.stop()
    return 0
