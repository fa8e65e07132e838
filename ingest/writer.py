"""Delivery: one micro-batch -> the raw, validated and quarantine Delta tables, exactly once.

Why foreachBatch with Delta's idempotent writes (and not three queries, one per table):

- One query reads and parses each event once; three queries would read the source three
  times and keep three checkpoints that can drift apart (raw ahead of validated after a crash).
- Structured Streaming records a batch's offsets *before* running it and marks it committed
  *after*; a batch interrupted by a crash is re-run on restart with the same id and the same
  input (the file list / Kafka offsets come from the offset log). Each table write carries
  ``txnAppId`` (stable for the query: the checkpoint's query id) and ``txnVersion`` (the batch
  id); Delta records the pair in the same atomic commit as the data and skips a write whose
  version it has already committed for that app id. So a re-run writes exactly the tables the
  crash left out, and none twice.
- A re-run must compute the same rows: the validation clock is the batch's own timestamp
  (``ingest_time``, recorded in the offset log), not the wall clock.

The app id comes from the checkpoint's query id, not from the table path: deleting the
checkpoint to reprocess on purpose starts a new id, so Delta does not silently skip the new
batches 0, 1, 2... as already written.

Tables are created up front by path (no metastore: the job runs without Hive so it can run
beside dbt, which owns the Derby metastore), with the schemas of ``ingest.tables``; raw is
``delta.appendOnly``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pyspark import StorageLevel
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType
from pyspark.util import inheritable_thread_target

from ingest.config import IngestConfig
from ingest.rules import ValidationConfig
from ingest.tables import QUARANTINE_SCHEMA, RAW_SCHEMA, VALIDATED_SCHEMA
from ingest.validation import REASONS, check, to_quarantine, to_raw, to_validated
from smartgrid.delta import is_delta_table

log = logging.getLogger(__name__)

APP_ID_PREFIX = "smartgrid-ingest-"
QUERY_ID_PROPERTY = "sql.streaming.queryId"


# Columns Delta keeps min/max statistics on (by default the first 32: every column here).
# Readers skip files on these: dbt reads validated rows by ingest_time (incremental runs) and
# event timestamp, lineage queries go by batch and source position. Statistics on the raw
# bodies and the other payload columns would cost about a third of each write and skip nothing.
RAW_STATS = ("source_name", "source_offset", "ingest_time", "batch_id")
VALIDATED_STATS = ("timestamp", "meter_id", "ingest_time", "batch_id")
QUARANTINE_STATS = ("ingest_time", "batch_id")


def _stats_columns(columns: tuple[str, ...]) -> dict[str, str]:
    return {"delta.dataSkippingStatsColumns": ",".join(columns)}


def clear_uncommitted_log(spark: SparkSession, path: str) -> bool:
    """Remove ``<path>/_delta_log`` if it holds no commit; return whether it did.

    A process killed while creating a table can leave its ``_delta_log`` directory behind
    with no version in it (Delta makes the directory first, then renames the first commit into
    it). Delta then takes the location for a table, yet cannot read one: creating the table
    again fails with DELTA_TABLE_NOT_FOUND, on every restart. With no commit, nothing was
    ever written to the table, so removing the directory loses nothing. Only a log of hidden
    files (Delta's temporary ones) and empty directories counts as holding no commit; anything
    else is left for a person to look at.
    """
    jvm = spark.sparkContext._jvm
    log_dir = jvm.org.apache.hadoop.fs.Path(path, "_delta_log")
    fs = log_dir.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(log_dir):
        return False
    for status in fs.listStatus(log_dir):
        if status.isDirectory():
            if len(fs.listStatus(status.getPath())) > 0:
                return False
        elif not status.getPath().getName().startswith("."):
            return False
    fs.delete(log_dir, True)
    log.warning("removed the uncommitted Delta log of an interrupted table creation at %s", path)
    return True


def ensure_tables(spark: SparkSession, config: IngestConfig) -> None:
    """Create the three Delta tables at their paths if they do not exist yet.

    Side by side: each creation is one Delta commit, mostly driver-side work. A creation that
    an earlier run was killed in the middle of is started again (``clear_uncommitted_log``).
    """
    from delta.tables import DeltaTable

    def create(path: str, schema: StructType, properties: dict[str, str]) -> None:
        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
        for key, value in properties.items():
            builder = builder.property(key, value)
        try:
            builder.execute()
        except AnalysisException as error:
            if error.getCondition() != "DELTA_TABLE_NOT_FOUND" or not clear_uncommitted_log(
                spark, path
            ):
                raise
            builder.execute()

    _add_missing_raw_columns(spark, config.raw)
    tables = (
        (config.raw, RAW_SCHEMA, {"delta.appendOnly": "true", **_stats_columns(RAW_STATS)}),
        (config.validated, VALIDATED_SCHEMA, _stats_columns(VALIDATED_STATS)),
        (config.quarantine, QUARANTINE_SCHEMA, _stats_columns(QUARANTINE_STATS)),
    )
    run_concurrently(spark, [partial(create, *table) for table in tables])


def _add_missing_raw_columns(spark: SparkSession, path: str) -> None:
    """A raw table written before a column of RAW_SCHEMA existed (``body_bytes``) gets it.

    Its earlier rows hold null there: the bytes they were received as were not kept.
    """
    if not is_delta_table(spark, path):
        return
    have = set(spark.read.format("delta").load(path).columns)
    missing = [f for f in RAW_SCHEMA.fields if f.name not in have]
    if missing:
        columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in missing)
        location = path.replace("`", "``")
        spark.sql(f"ALTER TABLE delta.`{location}` ADD COLUMNS ({columns})")
        log.warning("raw table at %s: added column(s) %s", path, columns)


@dataclass
class BatchStats:
    batch_id: int
    raw: int
    validated: int
    quarantined: int
    reasons: dict[str, int]


@dataclass
class RunStats:
    """What the batches of one run wrote (a batch re-run after a crash counts in this run)."""

    batches: list[BatchStats] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Called with (batches written, raw rows written) after each batch: a progress display.
    on_add: Callable[[int, int], None] | None = field(default=None, repr=False)

    def add(self, stats: BatchStats) -> None:
        with self.lock:
            self.batches.append(stats)
            done, rows = len(self.batches), sum(b.raw for b in self.batches)
        if self.on_add is not None:
            self.on_add(done, rows)

    def totals(self) -> tuple[int, int, int, dict[str, int]]:
        with self.lock:
            reasons: Counter[str] = Counter()
            for batch in self.batches:
                reasons.update(batch.reasons)
            return (
                sum(b.raw for b in self.batches),
                sum(b.validated for b in self.batches),
                sum(b.quarantined for b in self.batches),
                dict(sorted(reasons.items())),
            )


def write_delta(df: DataFrame, path: str, app_id: str, batch_id: int) -> None:
    (
        df.write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", str(batch_id))
        .save(path)
    )


def run_concurrently(session: SparkSession, actions: list[Callable[[], Any]]) -> list[Any]:
    """Run Spark actions side by side; return their results, or raise the first failure.

    Each Delta write spends about a second on the driver alone (reading the snapshot,
    planning, committing); side by side, one action's tasks fill the cores while another is
    in that phase. Every write stays idempotent on its own (``txnAppId``/``txnVersion``), so a
    failure leaves the batch to be re-run exactly as when the writes ran one after another,
    and all actions have ended before this returns or raises.
    """
    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        # inheritable_thread_target: each action's JVM thread gets the batch's local properties
        # (the streaming query's job group and ids) and the session's tags. One wrapper per
        # action: a wrapper hands every thread it runs the same properties object, and Spark
        # writes per-query entries (the SQL execution id) into it while a query runs.
        futures = [pool.submit(inheritable_thread_target(session)(action)) for action in actions]
        return [future.result() for future in futures]


class DeltaBatchWriter:
    """The ``foreachBatch`` function: validate once, then append to the three tables."""

    def __init__(
        self,
        config: IngestConfig,
        validation: ValidationConfig | None = None,
        stats: RunStats | None = None,
    ) -> None:
        self.config = config
        self.validation = validation or ValidationConfig()
        self.stats = stats if stats is not None else RunStats()

    def app_id(self, batch: DataFrame) -> str:
        query_id = batch.sparkSession.sparkContext.getLocalProperty(QUERY_ID_PROPERTY)
        if not query_id:
            raise RuntimeError("foreachBatch ran without a streaming query id")
        return APP_ID_PREFIX + query_id

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        app_id = self.app_id(batch)
        events = batch.withColumn("batch_id", F.lit(batch_id).cast("long"))
        # Parse and validate once; the three writes read the cached result.
        checked = check(events, self.validation).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            # One pass fills the cache and tallies it: rows per set of reasons (valid rows have
            # none). Then the three writes run side by side.
            tally = (
                checked.groupBy(F.when(F.size(REASONS) > 0, F.col(REASONS)).alias(REASONS))
                .count()
                .collect()
            )
            run_concurrently(
                batch.sparkSession,
                [
                    partial(write_delta, df, path, app_id, batch_id)
                    for df, path in (
                        (to_raw(checked), self.config.raw),
                        (to_validated(checked), self.config.validated),
                        (to_quarantine(checked), self.config.quarantine),
                    )
                ],
            )
        finally:
            checked.unpersist()
        reasons: Counter[str] = Counter()
        total = quarantined = 0
        for row in tally:
            total += row["count"]
            if row[REASONS] is not None:
                quarantined += row["count"]
                for reason in row[REASONS]:
                    reasons[reason] += row["count"]
        stats = BatchStats(batch_id, total, total - quarantined, quarantined, dict(reasons))
        self.stats.add(stats)
        log.info(
            "batch %d: raw %d, validated %d, quarantined %d",
            batch_id,
            stats.raw,
            stats.validated,
            stats.quarantined,
        )
