"""End to end through a real Kafka broker: produce with faults -> Kafka -> ingest -> dbt build,
and the same curated results as the local event hub gives for the same seed.

The Kafka ingest runs as a subprocess (``smartgrid ingest --source kafka``, a JVM of its own with
Spark's Kafka connector): the session's SparkSession was started without that package. Round one
ingests the first half of the readings with availableNow; round two produces the second half,
SIGKILLs an ingest in the middle of a micro-batch (its offsets logged, its commit not), restarts
it and lets it finish. dbt then runs in-process on the session's Spark, for each lake in turn:
``dbt build`` of the compared marts and what they are built from, without the project's data
and unit tests (tests/dbt runs those; here the content of the two lakes is compared).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from ingest.config import IngestConfig
from ingest.job import run_ingest, table_counts
from kafka_broker import create_topic
from producer.faults import parse_fault_spec
from producer.options import ProduceOptions
from producer.run import produce
from producer.sinks import make_sink
from smartgrid.lake import Lake
from transform import runner as dbt_runner

ROOT = Path(__file__).resolve().parents[2]
SEED = 20
FAULTS = "duplicate=0.02,late=0.02,malformed=0.01,voltage=0.01"
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
HALVES = (START, START + timedelta(hours=12))  # 20 meters x 1 day at 15 min, in two runs
CURATED = ("fct_meter_readings", "fct_meter_daily_energy", "fct_fleet_daily_target")
TOPIC = "meter-readings-e2e"
ROUND_TWO_OFFSETS_PER_BATCH = 250  # a few micro-batches, so one can be killed halfway
DBT_SELECT = " ".join(f"+{name}" for name in CURATED)
DBT_EXCLUDE = "test_type:data test_type:unit"  # tests/dbt runs the project's tests


def _options(start: datetime) -> ProduceOptions:
    return ProduceOptions(
        meters=20,
        start=start,
        duration=timedelta(hours=12),
        interval=timedelta(minutes=15),
        seed=SEED,
        faults=parse_fault_spec(FAULTS),
    )


def _ingest_command(lake: Lake, bootstrap: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "pipeline.cli", "ingest", "--lake", lake.root,
        "--source", "kafka", "--kafka-bootstrap", bootstrap, "--topic", TOPIC,
        "--trigger", "available-now", "--driver-memory", "1g", *extra,
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "SMARTGRID_SHUFFLE_PARTITIONS": "1", "SMARTGRID_SPARK_LOG_LEVEL": "ERROR"}


def _ingest(lake: Lake, bootstrap: str, *extra: str) -> None:
    done = subprocess.run(
        _ingest_command(lake, bootstrap, *extra),
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _batches(directory: Path) -> set[int]:
    return {int(p.name) for p in directory.glob("[0-9]*")} if directory.is_dir() else set()


def _ingest_killed_mid_batch(lake: Lake, bootstrap: str) -> int:
    """Start an ingest and SIGKILL it while a micro-batch is planned but not committed."""
    checkpoint = Path(lake.path("checkpoints", "ingest", "kafka"))
    committed_before = _batches(checkpoint / "commits")
    process = subprocess.Popen(
        _ingest_command(
            lake, bootstrap, "--max-offsets-per-trigger", str(ROUND_TWO_OFFSETS_PER_BATCH)
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
        cwd=ROOT,
    )
    deadline = time.monotonic() + 240
    try:
        while True:
            assert process.poll() is None, "the ingest finished before it could be killed mid-run"
            assert time.monotonic() < deadline, "no micro-batch of the second round started"
            committed = _batches(checkpoint / "commits")
            open_batches = _batches(checkpoint / "offsets") - committed
            # At least one batch of this run committed, and the next one planned but unfinished.
            if committed - committed_before and open_batches:
                break
            time.sleep(0.02)  # polling files another process writes: nothing to wait on
        process.send_signal(signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(60)
    assert process.returncode == -signal.SIGKILL
    return max(open_batches)


def _build(spark, lake: Lake) -> dict[str, list]:
    # Both lakes share the session's metastore: dbt's relocate_lake_tables hook re-points the
    # models at this lake's location before building.
    dbt_runner.build(lake, select=DBT_SELECT, exclude=DBT_EXCLUDE, spark=spark)
    return _curated(spark, lake)


def _curated(spark, lake: Lake) -> dict[str, list]:
    return {
        name: spark.read.format("delta").load(lake.path("curated", name)).collect()
        for name in CURATED
    }


@pytest.mark.slow
def test_kafka_path_gives_the_curated_results_of_the_local_event_hub(
    spark, kafka, tmp_path
) -> None:
    started = time.monotonic()

    def lap(phase: str) -> None:  # shown with -s, or when the test fails
        print(f"[{time.monotonic() - started:6.1f} s] {phase}", flush=True)

    local = Lake.resolve(str(tmp_path / "local")).ensure()
    via_kafka = Lake.resolve(str(tmp_path / "kafka")).ensure()
    create_topic(kafka.bootstrap, TOPIC, 4)

    # The baseline: the embedded local event hub, ingested in-process.
    for start in HALVES:
        produce(_options(start), local)
    run_ingest(IngestConfig(lake=local), spark=spark)
    lap("local path ingested")

    def to_kafka(start: datetime) -> int:
        sink = make_sink("kafka", via_kafka, kafka_bootstrap=kafka.bootstrap, topic=TOPIC)
        summary = produce(_options(start), via_kafka, sink)
        assert sink.delivered == summary.events_sent and sink.failed == 0
        return summary.events_sent

    # Round one: availableNow over the first half.
    first = to_kafka(HALVES[0])
    _ingest(via_kafka, kafka.bootstrap)
    lap("kafka round one ingested")
    config = IngestConfig(
        lake=via_kafka, source="kafka", kafka_bootstrap=kafka.bootstrap, topic=TOPIC
    )
    assert table_counts(spark, config).raw == first

    # Round two: the second half; an ingest killed mid-batch, then restarted to the end.
    second = to_kafka(HALVES[1])
    killed_batch = _ingest_killed_mid_batch(via_kafka, kafka.bootstrap)
    lap("ingest killed mid-batch")
    checkpoint = Path(via_kafka.path("checkpoints", "ingest", "kafka"))
    assert killed_batch not in _batches(checkpoint / "commits")
    _ingest(via_kafka, kafka.bootstrap)
    assert killed_batch in _batches(checkpoint / "commits")
    lap("restarted ingest finished")

    # Every Kafka record exactly once in raw, with its topic/partition/offset/timestamp, and in
    # exactly one of validated and quarantine.
    raw = spark.read.format("delta").load(via_kafka.raw)
    lineage = raw.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("source_partition", "source_offset").alias("records"),
        F.countDistinct("source_partition").alias("partitions"),
        F.min(F.col("source_name") == TOPIC).alias("topic_ok"),
        F.sum(F.col("source_timestamp").isNull().cast("int")).alias("no_timestamp"),
        F.countDistinct("batch_id").alias("batches"),
    ).first()
    assert lineage["rows"] == lineage["records"] == first + second
    assert lineage["partitions"] > 1 and lineage["topic_ok"] and lineage["no_timestamp"] == 0
    assert lineage["batches"] > 2
    kafka_counts = table_counts(spark, config)
    local_counts = table_counts(spark, IngestConfig(lake=local))
    assert kafka_counts.validated + kafka_counts.quarantined == kafka_counts.raw
    assert (kafka_counts.raw, kafka_counts.validated, kafka_counts.reasons) == (
        local_counts.raw,
        local_counts.validated,
        local_counts.reasons,
    )
    assert local_counts.quarantined > 0 and local_counts.raw > local_counts.validated

    # dbt on each lake in turn (the session's metastore follows the lake being built).
    expected = _build(spark, local)
    lap("dbt on the local lake")
    actual = _build(spark, via_kafka)
    lap("dbt on the kafka lake")
    assert len(expected["fct_meter_readings"]) > 1_000
    assert expected["fct_meter_daily_energy"] and expected["fct_fleet_daily_target"]
    for name in CURATED:
        assertDataFrameEqual(actual[name], expected[name])
