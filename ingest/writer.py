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
from dataclasses import dataclass, field

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ingest.config import IngestConfig, ValidationConfig
from ingest.tables import QUARANTINE_SCHEMA, RAW_SCHEMA, VALIDATED_SCHEMA
from ingest.validation import (
    REASONS,
    check_prepared,
    prepare,
    to_quarantine,
    to_raw,
    to_validated,
)

log = logging.getLogger(__name__)

APP_ID_PREFIX = "smartgrid-ingest-"
QUERY_ID_PROPERTY = "sql.streaming.queryId"


def ensure_tables(spark: SparkSession, config: IngestConfig) -> None:
    """Create the three Delta tables at their paths if they do not exist yet."""
    from delta.tables import DeltaTable

    for path, schema, properties in (
        (config.raw, RAW_SCHEMA, {"delta.appendOnly": "true"}),
        (config.validated, VALIDATED_SCHEMA, {}),
        (config.quarantine, QUARANTINE_SCHEMA, {}),
    ):
        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
        for key, value in properties.items():
            builder = builder.property(key, value)
        builder.execute()


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

    def add(self, stats: BatchStats) -> None:
        with self.lock:
            self.batches.append(stats)

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
        # Parse and validate once; the three writes read the cached result. The prepared rows
        # (the source read and the fast path's parse) are cached too: both branches of the
        # check read them (see ingest.validation.check_prepared).
        prepared = prepare(events, self.validation).persist(StorageLevel.MEMORY_AND_DISK)
        checked = check_prepared(prepared, self.validation).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            per_reasons = checked.groupBy(REASONS).count().collect()
            write_delta(to_raw(checked), self.config.raw, app_id, batch_id)
            write_delta(to_validated(checked), self.config.validated, app_id, batch_id)
            write_delta(to_quarantine(checked), self.config.quarantine, app_id, batch_id)
        finally:
            checked.unpersist()
            prepared.unpersist()
        reasons: Counter[str] = Counter()
        validated = quarantined = 0
        for row in per_reasons:
            if row[REASONS]:
                quarantined += row["count"]
                for reason in row[REASONS]:
                    reasons[reason] += row["count"]
            else:
                validated += row["count"]
        stats = BatchStats(batch_id, validated + quarantined, validated, quarantined, dict(reasons))
        self.stats.add(stats)
        log.info(
            "batch %d: raw %d, validated %d, quarantined %d",
            batch_id,
            stats.raw,
            stats.validated,
            stats.quarantined,
        )
