"""End to end in-process: landing files -> run_ingest -> the three Delta tables."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from ingest_helpers import body, make_event, write_landing_file
from pyspark.sql import functions as F

from ingest.config import IngestConfig
from ingest.job import run_ingest, table_counts
from ingest.tables import QUARANTINE_SCHEMA, RAW_SCHEMA, VALIDATED_SCHEMA
from ingest.writer import (
    QUARANTINE_STATS,
    RAW_STATS,
    VALIDATED_STATS,
    clear_uncommitted_log,
    run_concurrently,
)


def read(spark, path: str):
    return spark.read.format("delta").load(path)


def keys(df) -> list[tuple[str, int]]:
    return sorted(
        (r.name, r.source_offset)
        for r in df.select(
            F.element_at(F.split("source_name", "/"), -1).alias("name"), "source_offset"
        ).collect()
    )


def test_available_now_ingests_once_and_picks_up_new_files(spark, lake) -> None:
    landing = Path(lake.landing)
    duplicate = body(make_event(1))
    write_landing_file(landing, "a.jsonl", [duplicate, body(make_event(2)), "garbage", duplicate])
    write_landing_file(
        landing, "b.jsonl", [body(make_event(3, voltage="x")), body(make_event(4)), ""]
    )
    (landing / ".c.jsonl.tmp").write_text(body(make_event(5)) + "\n")  # not yet renamed
    (landing / "notes.txt").write_text("not an event file\n")
    config = IngestConfig(lake=lake)

    first = run_ingest(config, spark=spark)
    assert (first.raw, first.validated, first.quarantined) == (7, 4, 3)
    assert first.reasons == {"bad_type:voltage": 1, "not_json": 2}
    assert first.batches == 1

    raw, validated, quarantine = (
        read(spark, p) for p in (lake.raw, lake.validated, lake.quarantine)
    )
    # Contract with dbt: the tables carry exactly the schemas of ingest.tables.
    assert [f.name for f in raw.schema] == RAW_SCHEMA.fieldNames()
    assert raw.schema.simpleString() == RAW_SCHEMA.simpleString()
    assert validated.schema.simpleString() == VALIDATED_SCHEMA.simpleString()
    assert quarantine.schema.simpleString() == QUARANTINE_SCHEMA.simpleString()
    expected = [("a.jsonl", i) for i in range(4)] + [("b.jsonl", i) for i in range(3)]
    assert keys(raw) == expected
    assert sorted(keys(validated) + keys(quarantine)) == expected
    assert keys(quarantine) == [("a.jsonl", 2), ("b.jsonl", 0), ("b.jsonl", 2)]
    # The producer's duplicate is kept, as received (dedup is dbt's job).
    assert validated.where(F.col("event_id") == "evt-00000001").count() == 2
    assert raw.where(F.col("body") == duplicate).count() == 2
    lineage = raw.where("source_offset = 0").select("source_timestamp", "ingest_time").first()
    assert lineage.source_timestamp is not None and lineage.ingest_time is not None
    # File statistics only on the columns readers skip by (not on the bodies).
    assert _stats_columns(lake.raw) == set(RAW_STATS)
    assert _stats_columns(lake.validated) == set(VALIDATED_STATS)
    assert _stats_columns(lake.quarantine) == set(QUARANTINE_STATS)

    again = run_ingest(config, spark=spark)
    assert (again.raw, again.validated, again.quarantined) == (0, 0, 0)
    assert table_counts(spark, config).raw == 7

    (landing / ".c.jsonl.tmp").rename(landing / "c.jsonl")
    later = run_ingest(config, spark=spark)
    assert (later.raw, later.validated) == (1, 1)
    counts = table_counts(spark, config)
    assert (counts.raw, counts.validated, counts.quarantined) == (8, 5, 3)
    assert counts.reasons == {"bad_type:voltage": 1, "not_json": 2}
    assert keys(read(spark, lake.raw))[-1] == ("c.jsonl", 0)


def _stats_columns(path: str) -> set[str]:
    """The columns with min/max statistics in the files the table's commits added."""
    columns: set[str] = set()
    for commit in sorted((Path(path) / "_delta_log").glob("*.json")):
        for line in commit.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                columns |= set(json.loads(action["add"]["stats"])["minValues"])
    return columns


def _delta_versions(path: str) -> int:
    log = Path(path) / "_delta_log"
    return len(list(log.glob("*.json"))) if log.exists() else 0


def test_continuous_trigger_runs_until_stopped(spark, lake) -> None:
    """The processing-time trigger keeps picking up files until asked to stop."""
    landing = Path(lake.landing)
    config = IngestConfig(
        lake=lake, trigger="continuous", interval_seconds=0.5, max_files_per_trigger=1
    )
    stop = threading.Event()
    failures: list[str] = []

    def feed_then_stop() -> None:
        deadline = time.monotonic() + 180
        for n in range(2):
            write_landing_file(landing, f"live-{n}.jsonl", [body(make_event(n))])
            # Wait for the batch that takes this file: raw gets one commit per batch
            # (version 0 is the table's creation).
            while _delta_versions(lake.raw) < n + 2:
                if time.monotonic() > deadline:
                    failures.append(f"file {n} not ingested in time")
                    stop.set()
                    return
                time.sleep(0.05)
        stop.set()

    feeder = threading.Thread(target=feed_then_stop)
    feeder.start()
    summary = run_ingest(config, spark=spark, stop_event=stop)
    feeder.join()
    assert not failures
    assert summary.raw == 2 and summary.validated == 2
    assert not spark.streams.active


@pytest.mark.parametrize("trigger", ["available-now"])
def test_empty_landing_creates_empty_tables(spark, lake, trigger) -> None:
    summary = run_ingest(IngestConfig(lake=lake, trigger=trigger), spark=spark)
    assert summary.raw == 0
    counts = table_counts(spark, IngestConfig(lake=lake))
    assert (counts.raw, counts.validated, counts.quarantined) == (0, 0, 0)
    # dbt can register the tables before the first event arrives.
    assert read(spark, lake.validated).schema.simpleString() == VALIDATED_SCHEMA.simpleString()


def _interrupted_creation(table: Path) -> None:
    """What a process killed while Delta created ``table`` leaves: the log directory with
    Delta's hidden temporary first commit and an empty staging directory, no version."""
    log_dir = table / "_delta_log"
    (log_dir / "_staged_commits").mkdir(parents=True)
    (log_dir / ".00000000000000000000.json.0c1d.tmp").write_text("{}")


def test_a_table_creation_killed_before_its_first_commit_is_started_again(spark, lake) -> None:
    _interrupted_creation(Path(lake.quarantine))
    write_landing_file(Path(lake.landing), "a.jsonl", [body(make_event(1)), "garbage"])

    summary = run_ingest(IngestConfig(lake=lake), spark=spark)

    assert (summary.raw, summary.validated, summary.quarantined) == (2, 1, 1)
    assert read(spark, lake.quarantine).schema.simpleString() == QUARANTINE_SCHEMA.simpleString()
    assert _delta_versions(lake.quarantine) == 2  # created, then the batch's append


def test_a_delta_log_with_a_commit_or_unknown_files_is_left_alone(spark, lake, tmp_path) -> None:
    run_ingest(IngestConfig(lake=lake), spark=spark)  # creates the three tables, empty
    assert not clear_uncommitted_log(spark, lake.raw)
    assert _delta_versions(lake.raw) == 1

    unknown_file = tmp_path / "unknown_file"
    _interrupted_creation(unknown_file)
    (unknown_file / "_delta_log" / "notes.txt").write_text("someone's\n")
    staged_commit = tmp_path / "staged_commit"
    _interrupted_creation(staged_commit)
    (staged_commit / "_delta_log" / "_staged_commits" / "00000000000000000000.uuid.json").touch()
    for table in (unknown_file, staged_commit):
        assert not clear_uncommitted_log(spark, str(table))
        assert (table / "_delta_log").is_dir()

    interrupted = tmp_path / "interrupted"
    _interrupted_creation(interrupted)
    assert clear_uncommitted_log(spark, str(interrupted))
    assert not (interrupted / "_delta_log").exists()
    assert not clear_uncommitted_log(spark, str(tmp_path / "nothing_here"))


def test_side_by_side_actions_keep_their_own_local_properties(spark) -> None:
    """Each action of run_concurrently inherits the caller's local properties and may set its
    own without touching the others' (Spark sets per-query properties while a query runs)."""
    context = spark.sparkContext
    context.setLocalProperty("smartgrid.test.inherited", "batch")
    both_set = threading.Barrier(2, timeout=60)

    def action(name: str) -> tuple[str | None, str | None]:
        context.setLocalProperty("smartgrid.test.own", name)
        both_set.wait()  # both threads have set theirs before either reads
        return (
            context.getLocalProperty("smartgrid.test.inherited"),
            context.getLocalProperty("smartgrid.test.own"),
        )

    try:
        results = run_concurrently(spark, [lambda: action("a"), lambda: action("b")])
    finally:
        context.setLocalProperty("smartgrid.test.inherited", None)
    assert results == [("batch", "a"), ("batch", "b")]
