"""Kill-and-restart: SIGKILL the ingest process at random moments, restart, check exactly once.

Each trial adds landing files, starts ``smartgrid ingest`` (its own JVM, no Hive; one file per
micro-batch) and kills the whole process group -- Python driver and JVM, as a crash would --
at a moment chosen at random among:

- mid-batch: raw has committed the batch but quarantine has not yet (the Delta logs disagree);
- after a batch started: the offset log has a batch the commit log has not, plus a random delay;
- at a random time after start (possibly during JVM start-up or between batches).

Synchronisation is by polling the checkpoint and Delta logs, never by sleeping. At the end a
last run completes, then every event written must be in raw exactly once and in exactly one
of validated / quarantine.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from ingest_helpers import body, make_event, write_landing_file
from pyspark.sql import functions as F

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 10
FILES_PER_TRIAL = 2
EVENTS_PER_FILE = 20
POLL = 0.02


def commits(table: Path) -> int:
    log = table / "_delta_log"
    return len(list(log.glob("*.json"))) if log.exists() else 0


def started_batches(checkpoint: Path) -> set[str]:
    offsets = checkpoint / "offsets"
    return {p.name for p in offsets.iterdir() if p.name.isdigit()} if offsets.exists() else set()


def committed_batches(checkpoint: Path) -> set[str]:
    done = checkpoint / "commits"
    return {p.name for p in done.iterdir() if p.name.isdigit()} if done.exists() else set()


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen, timeout: float) -> bool:
    """Poll until ``condition`` holds; False if the process ended or time ran out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(POLL)
    return False


def start_ingest(lake: Path) -> subprocess.Popen:
    env = {**os.environ, "SMARTGRID_SPARK_LOG_LEVEL": "ERROR", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "ingest",
            "--lake",
            str(lake),
            "--max-files-per-trigger",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the kill takes the JVM too
    )


def kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def write_trial_files(landing: Path, trial: int, rng: random.Random) -> dict[tuple[str, int], bool]:
    """Files of one trial; returns {(file, line): is_valid} for every event written."""
    expected = {}
    for f in range(FILES_PER_TRIAL):
        name = f"t{trial:02d}-{f}.jsonl"
        lines = []
        for i in range(EVENTS_PER_FILE):
            n = trial * 1000 + f * 100 + i
            kind = rng.random()
            if kind < 0.15:
                lines.append(rng.choice(["{broken", body(make_event(n, voltage="x")), "[]"]))
                expected[(name, i)] = False
            elif kind < 0.25 and lines:
                lines.append(lines[-1])  # an upstream duplicate
                expected[(name, i)] = expected[(name, i - 1)]
            else:
                lines.append(body(make_event(n)))
                expected[(name, i)] = True
        write_landing_file(landing, name, lines)
    return expected


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(spark, tmp_path) -> None:
    rng = random.Random(20261127)
    lake = tmp_path / "lake"
    landing, checkpoint = lake / "landing", lake / "checkpoints" / "ingest" / "local"
    raw, quarantine = lake / "raw", lake / "quarantine"
    expected: dict[tuple[str, int], bool] = {}
    modes = ["mid-batch", "after-batch-start", "random-time"]
    kills: list[tuple[str, bool]] = []
    for trial in range(TRIALS):
        expected.update(write_trial_files(landing, trial, rng))
        mode = modes[trial % len(modes)]
        proc = start_ingest(lake)
        try:
            if mode == "mid-batch":
                base = commits(quarantine)
                hit = wait_for(
                    lambda b=base: commits(raw) > commits(quarantine) and commits(raw) > b,
                    proc,
                    timeout=120,
                )
            elif mode == "after-batch-start":
                before = started_batches(checkpoint)
                hit = wait_for(
                    lambda b=before: bool(
                        (started_batches(checkpoint) - b) - committed_batches(checkpoint)
                    ),
                    proc,
                    timeout=120,
                )
                if hit:
                    wait_for(lambda: False, proc, timeout=rng.uniform(0.0, 1.5))
            else:
                hit = not wait_for(lambda: False, proc, timeout=rng.uniform(1.0, 8.0))
        finally:
            kill(proc)
        kills.append((mode, hit))
    # Most kills must land where they were aimed (mid-batch ones included), or the test
    # would prove little.
    assert sum(hit for mode, hit in kills if mode == "mid-batch") >= 2, kills

    final = start_ingest(lake)
    output, _ = final.communicate(timeout=300)
    assert final.returncode == 0, output

    def keyed(path: Path):
        df = spark.read.format("delta").load(str(path))
        return df.select(
            F.element_at(F.split("source_name", "/"), -1).alias("name"), "source_offset"
        )

    raw_keys = keyed(raw)
    dup = raw_keys.groupBy("name", "source_offset").count().where("count > 1").count()
    assert dup == 0, "an event is in raw more than once"
    got_raw = {(r.name, r.source_offset) for r in raw_keys.collect()}
    assert got_raw == set(expected)
    validated_keys = [(r.name, r.source_offset) for r in keyed(lake / "validated").collect()]
    quarantine_keys = [(r.name, r.source_offset) for r in keyed(quarantine).collect()]
    assert len(validated_keys) == len(set(validated_keys))
    assert len(quarantine_keys) == len(set(quarantine_keys))
    assert set(validated_keys) == {k for k, ok in expected.items() if ok}
    assert set(quarantine_keys) == {k for k, ok in expected.items() if not ok}


@pytest.mark.slow
def test_sigterm_stops_a_continuous_run_after_its_batch(tmp_path) -> None:
    lake = tmp_path / "lake"
    landing, checkpoint, raw = (
        lake / "landing",
        lake / "checkpoints" / "ingest" / "local",
        lake / "raw",
    )
    write_landing_file(landing, "a.jsonl", [body(make_event(i)) for i in range(5)])
    env = {**os.environ, "SMARTGRID_SPARK_LOG_LEVEL": "ERROR", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "ingest",
            "--lake",
            str(lake),
            "--trigger",
            "continuous",
            "--interval",
            "500ms",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: commits(raw) >= 2, proc, timeout=180), "no batch was written"
        write_landing_file(landing, "b.jsonl", [body(make_event(9))])
        # Signal as soon as the batch for b.jsonl has started: it must still complete.
        before = started_batches(checkpoint)
        wait_for(lambda: bool(started_batches(checkpoint) - before), proc, timeout=60)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            kill(proc)
    assert proc.returncode == 0, output
    assert "ingested 6 events" in output, output
    assert started_batches(checkpoint) == committed_batches(checkpoint)
