"""The ingest job: source -> validation -> three Delta tables, with a checkpoint.

``run_ingest(config)`` runs one streaming query. With the available-now trigger it processes
what is there and returns; with the continuous trigger (a processing-time trigger every
``interval_seconds``) it runs until SIGINT/SIGTERM (or ``stop_event``), then lets the current
micro-batch finish before stopping. A second signal stops at once, which is safe too: an
interrupted batch is re-run by the next start and the idempotent writes keep it exactly once.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from ingest.config import IngestConfig
from ingest.failures import check_kafka_reachable, failure_message, java_trace
from ingest.landing import IgnoredEntry, LandingWatch
from ingest.rules import ValidationConfig
from ingest.sources import read_events
from ingest.writer import DeltaBatchWriter, RunStats, ensure_tables
from smartgrid.delta import is_delta_table
from smartgrid.errors import SmartgridError

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class IngestSummary:
    """What one run added: counts per table and per quarantine reason, batches, time."""

    raw: int
    validated: int
    quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    seconds: float = 0.0
    # Landing entries the source did not read (each reported as a warning with its path).
    ignored: int = 0

    @property
    def events_per_second(self) -> float:
        return self.raw / self.seconds if self.seconds > 0 else 0.0

    def format(self) -> str:
        lines = [
            f"ingested {self.raw} events in {self.batches} batch(es), {self.seconds:.1f} s "
            f"({self.events_per_second:,.0f} events/s)",
            f"  raw         {self.raw}",
            f"  validated   {self.validated}",
            f"  quarantined {self.quarantined}",
        ]
        lines += [f"    {reason}: {count}" for reason, count in self.reasons.items()]
        if self.ignored:
            lines.append(
                f"  ignored     {self.ignored} landing entries (not read; see the warnings)"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class TableCounts:
    """Rows in the three tables now (all runs), quarantine split by reason."""

    raw: int
    validated: int
    quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)

    def format(self) -> str:
        lines = [
            "tables:",
            f"  raw         {self.raw}",
            f"  validated   {self.validated}",
            f"  quarantined {self.quarantined}",
        ]
        lines += [f"    {reason}: {count}" for reason, count in self.reasons.items()]
        return "\n".join(lines)


def table_counts(spark: SparkSession, config: IngestConfig) -> TableCounts:
    """Count the rows of raw, validated and quarantine (by reason); 0 for a missing table."""

    def count(path: str) -> int:
        return spark.read.format("delta").load(path).count() if is_delta_table(spark, path) else 0

    reasons: dict[str, int] = {}
    if is_delta_table(spark, config.quarantine):
        rows = (
            spark.read.format("delta")
            .load(config.quarantine)
            .select(F.explode("reasons").alias("reason"))
            .groupBy("reason")
            .count()
            .orderBy("reason")
            .collect()
        )
        reasons = {row["reason"]: row["count"] for row in rows}
    return TableCounts(
        count(config.raw), count(config.validated), count(config.quarantine), reasons
    )


# SQL settings for the validation's plans, set on whatever session runs the job (on Databricks
# too, where the job does not build its session):
# - constraint propagation: inferring constraints through the wide, filtered projections of
#   ingest.validation made planning one micro-batch take seconds to minutes;
# - hugeMethodLimit 8000: HotSpot does not JIT-compile a method of more than 8,000 bytes of
#   bytecode (HugeMethodLimit), and the whole-stage code of the validation's projections grows
#   past that, so it ran interpreted (about 5x slower on the fast path). At 8,000 (the value
#   Spark's documentation recommends on HotSpot) Spark falls back to per-operator code instead.
# - the batch cache uncompressed: it lives for one batch, and choosing each column's encoding
#   (hashing every value of the high-cardinality bodies for a dictionary) cost more CPU than
#   the three writes saved reading it back.
INGEST_SQL_CONF = {
    "spark.sql.constraintPropagation.enabled": "false",
    "spark.sql.codegen.hugeMethodLimit": "8000",
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
}


def build_ingest_spark(config: IngestConfig) -> SparkSession:
    """A SparkSession for the job: no Hive (dbt owns the Derby metastore), Kafka when needed."""
    from smartgrid.spark import build_spark

    extra = {
        # Whole-file reads: split the landing files over both cores even for small backlogs.
        "spark.sql.files.maxPartitionBytes": str(32 * 1024 * 1024),
        **INGEST_SQL_CONF,
    }
    if config.driver_memory:
        extra["spark.driver.memory"] = config.driver_memory
    return build_spark(
        config.lake,
        "smartgrid-ingest",
        hive=False,
        kafka=config.source == "kafka",
        extra_conf=extra,
    )


class _Stopper:
    """Turns SIGINT/SIGTERM into a graceful stop request; a second signal forces it."""

    def __init__(self, external: threading.Event | None) -> None:
        self.requested = external or threading.Event()
        self.forced = threading.Event()

    def __call__(self, signum: int, _frame: object) -> None:
        if self.requested.is_set():
            self.forced.set()
        log.warning("signal %d: stopping after the current micro-batch", signum)
        self.requested.set()

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _stop_gracefully(query, stopper: _Stopper) -> None:
    # Wait for the running micro-batch to finish (its commit), then stop before the next one.
    while query.isActive and query.status.get("isTriggerActive") and not stopper.forced.is_set():
        query.awaitTermination(0.1)
    query.stop()


def run_ingest(
    config: IngestConfig,
    validation: ValidationConfig | None = None,
    *,
    spark: SparkSession | None = None,
    stop_event: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    warn: Callable[[IgnoredEntry], None] | None = None,
) -> IngestSummary:
    """Run the ingest query; return what this run added.

    ``progress(batches, events)`` is called after each micro-batch is written. With a local
    landing folder, ``warn(entry)`` is called once per entry the source will not read (see
    ``ingest.landing``): listed before the query starts, after each micro-batch and at the end.
    The default prints ``warning: ignored landing entry: <path>: <why>`` on stderr.
    """
    warn = warn or _print_warning
    check_kafka_reachable(config)  # before Spark starts anything: a dead address fails in seconds
    watch = _landing_watch(config)

    def report_ignored() -> None:
        if watch is not None:
            for entry in watch.scan():
                log.warning("%s", entry.format())
                warn(entry)

    validation = validation or ValidationConfig()
    spark = spark or build_ingest_spark(config)
    for key, value in INGEST_SQL_CONF.items():
        spark.conf.set(key, value)
    ensure_tables(spark, config)
    stats = RunStats(on_add=progress)
    writer = DeltaBatchWriter(config, validation, stats)
    stopper = _Stopper(stop_event)
    started = time.monotonic()
    report_ignored()
    with stopper.installed():
        query = (
            read_events(spark, config)
            .writeStream.queryName(f"smartgrid_ingest_{config.source}")
            .foreachBatch(writer)
            .option("checkpointLocation", config.checkpoint)
            .trigger(**config.spark_trigger)
            .start()
        )
        log.info(
            "ingest started: source=%s trigger=%s checkpoint=%s",
            config.source,
            config.trigger,
            config.checkpoint,
        )
        try:
            scanned_batches = 0
            while query.isActive:
                if stopper.requested.is_set():
                    _stop_gracefully(query, stopper)
                    break
                query.awaitTermination(POLL_SECONDS)
                if len(stats.batches) != scanned_batches:  # once per micro-batch, not per poll
                    scanned_batches = len(stats.batches)
                    report_ignored()
        except Exception as exc:
            message = failure_message(config, exc, _first_line(exc))
            raise SmartgridError(message, exit_code=1) from exc
        finally:
            if query.isActive:
                query.stop()
        error = query.exception()
        if error is not None:
            # The whole Java trace goes to the log; the console gets the root cause.
            log.error("ingest query failed:\n%s", java_trace(error) or error)
            raise SmartgridError(failure_message(config, error, _first_line(error)), exit_code=1)
    report_ignored()
    seconds = time.monotonic() - started
    raw, validated, quarantined, reasons = stats.totals()
    ignored = len(watch.reported) if watch is not None else 0
    return IngestSummary(raw, validated, quarantined, reasons, len(stats.batches), seconds, ignored)


def _landing_watch(config: IngestConfig) -> LandingWatch | None:
    """A watch on the landing folder when it and the checkpoint are local, else None."""
    local = config.lake.is_local and not any(
        "://" in p and not p.startswith("file:") for p in (config.landing, config.checkpoint)
    )
    if config.source != "local" or not local:
        return None
    return LandingWatch(
        Path(config.landing.removeprefix("file:")), Path(config.checkpoint.removeprefix("file:"))
    )


def _print_warning(entry: IgnoredEntry) -> None:
    print(f"warning: {entry.format()}", file=sys.stderr, flush=True)


def _first_line(error: object) -> str:
    text = getattr(error, "desc", None) or str(error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
