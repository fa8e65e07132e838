"""The pipeline's stages, one definition each: ``demo`` and ``demo --live`` both run these.

reset the lake -> produce -> ingest -> dbt build -> CSV export -> dashboard -> summaries. Each
stage is a thin call into its part (producer, ingest, transform, dashboard); the modes differ
only in how they sequence and repeat them.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dashboard.dashboard import build_dashboard
from ingest.config import IngestConfig
from ingest.job import IngestSummary, TableCounts, run_ingest, table_counts
from producer.options import ProduceOptions
from producer.run import produce as produce_events
from smartgrid import catalog
from smartgrid.durations import parse_duration
from smartgrid.errors import SmartgridError
from smartgrid.lake import ZONES, Lake
from transform import runner as dbt

# What a reset clears: every zone plus Spark's own state (warehouse, Derby metastore).
RESET_DIRS = (*ZONES, "warehouse", "metastore_db")


def reset_lake(lake: Lake) -> None:
    """Remove a previous run's data so a second ``make demo`` starts from the same state."""
    if not lake.is_local:
        raise SmartgridError("the demo resets a local lake only; pass --keep for a cloud lake")
    for name in RESET_DIRS:
        shutil.rmtree(lake.path(name), ignore_errors=True)


def interval(text: str) -> timedelta:
    """The demo's ``--interval`` (the one duration grammar, smartgrid.durations)."""
    return parse_duration(text, name="--interval")


def produce(options: ProduceOptions, lake: Lake, sink=None, **kwargs: Any):
    """The simulated fleet into the event hub (the local landing directory unless ``sink``)."""
    return produce_events(options, lake, sink, **kwargs)


def counts(spark, config: IngestConfig) -> TableCounts:
    """Rows of raw, validated and quarantine (by reason)."""
    return table_counts(spark, config)


def start_spark(lake: Lake):
    """The one Hive-enabled session every stage shares (dbt reuses it)."""
    return dbt.start_spark(lake)


def ingest(config: IngestConfig, spark, stop_event=None, progress=None) -> IngestSummary:
    """``progress(batches, events)`` after each micro-batch."""
    return run_ingest(config, spark=spark, stop_event=stop_event, progress=progress)


def build(
    lake: Lake, spark, command: str = "build", progress=None, *, unit_tests: bool = True
) -> None:
    """``dbt build`` (or ``seed`` / ``run``) of the project on the lake; ``progress(done,
    total)`` as each dbt node finishes. ``unit_tests=False`` leaves dbt's unit tests out, as
    dbt Labs advise for a production run: they test the SQL, not the data, and `make test`
    runs them; a model's unit tests would otherwise run before it on the critical path."""
    excluded = () if unit_tests else ("unit_test",)
    dbt.build(
        lake, spark=spark, command=command, progress=progress, exclude_resource_types=excluded
    )


def export(lake: Lake, spark) -> Path:
    """The curated CSV for Power BI, published atomically."""
    return dbt.export_csv(lake, spark=spark)


def docs(lake: Lake, spark) -> None:
    dbt.run_dbt(["docs", "generate"], lake, spark=spark)


def report(spark, lake: Lake, **options: Any) -> Path:
    """The dashboard HTML from the curated marts."""
    return build_dashboard(spark, lake, **options)


def curated_facts(spark, lake: Lake) -> dict[str, Any]:
    """Headline numbers of the curated layer, read from the Delta tables by path."""
    from pyspark.sql import functions as F

    def delta(path: str):
        return spark.read.format("delta").load(path)

    validated = delta(lake.validated).count()
    clean = delta(catalog.clean_path(lake)).count()
    readings = delta(catalog.mart_path(lake, catalog.READINGS))
    row = readings.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("local_date").alias("days"),
        F.countDistinct("meter_id").alias("meters"),
        F.sum("energy_kwh").alias("kwh"),
        F.sum(F.when(F.col("anomaly_flag") == "Anomaly", 1).otherwise(0)).alias("anomalies"),
    ).first()
    daily = delta(catalog.mart_path(lake, catalog.METER_DAILY)).agg(F.avg("kwh")).first()[0]
    return {
        "duplicates removed": validated - clean,
        "curated rows": row["rows"],
        "meters": row["meters"],
        "days": row["days"],
        "total kWh": round(row["kwh"] or 0.0, 1),
        "average kWh per meter-day": round(daily or 0.0, 2),
        "anomalous readings": row["anomalies"],
    }


def newest_curated(spark, lake: Lake) -> tuple[int, datetime | None]:
    """Rows of the curated readings and the newest reading's time (UTC), for freshness."""
    from pyspark.sql import functions as F

    row = (
        spark.read.format("delta")
        .load(catalog.mart_path(lake, catalog.READINGS))
        .agg(F.count(F.lit(1)).alias("rows"), F.max("timestamp").alias("newest"))
        .first()
    )
    newest = row["newest"]
    if newest is not None and newest.tzinfo is None:
        newest = newest.replace(tzinfo=timezone.utc)  # the session time zone is UTC
    return row["rows"], newest
