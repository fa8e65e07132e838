"""The bench scripts' smallest paths: each prints its ratio line (its baseline measured in the same
run), ``--record PATH`` writes a file in capacity/measured.json's format with the provenance of
each figure (never the committed file), and ``bench/run_all.py`` runs the commands the README's
Performance table and docs/capacity.md cite.

Covered here: the producer and the Event Hubs sink (through ``run_all.py --quick --record
PATH``, as subprocesses, no JVM), and the ingest benchmark's measurement at 2,000 events in the
session's SparkSession (no JVM of its own). Not run here, each for a stated reason:
``bench_dbt.py`` (a dbt seed, a full refresh and two incremental runs in a JVM of its own),
``bench_kafka.py`` (a Kafka broker plus a Spark session with the Kafka connector),
``bench_spark_start.py`` (it times fresh JVMs, that is its point), ``bench_live.py`` (its first
refresh alone outlasts a minute) and the sweeps (a fresh process per master or base by design,
and at tiny sizes the time need not grow with the size, so the fit may rightly refuse to
record). ``python bench/run_all.py --quick --sweeps --record /tmp/m.json`` smoke-runs them all.
"""

from __future__ import annotations

import importlib
import json
import math
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from capacity.model import MEASURED_FILE, load_measured

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


def run_all(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_quick_run_prints_each_ratio_and_records_into_the_given_file_only(tmp_path) -> None:
    committed = MEASURED_FILE.read_bytes()
    doc = (ROOT / "docs" / "capacity.md").read_bytes()
    target = tmp_path / "measured.json"
    started = datetime.now(timezone.utc).replace(microsecond=0)

    done = run_all("--quick", "--record", str(target), "producer", "eventhubs_sink")

    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "=== python bench/bench_producer.py --events 2000 --repeat 1 --record" in out
    # Each script's ratio against the baseline it measured in the same run.
    assert re.search(r"^ratio: \d+\.\d\dx wall, \d+\.\d\dx CPU \(goal >= 1\.0x\)$", out, re.M)
    assert re.search(r"^ratio vs ready-made EventData: \d+\.\d\dx \(goal >= 0\.8x\)$", out, re.M)

    # The file has measured.json's format: the model reads it, every committed figure is there.
    data = json.loads(target.read_text(encoding="utf-8"))
    assert set(data) == set(json.loads(committed))
    assert set(data["figures"]) >= set(json.loads(committed)["figures"])
    measured = load_measured(target)
    recorded = {
        "producer_events_per_second_per_core": "bench/bench_producer.py --events 2000 --repeat 1",
        "wire_bytes_per_event": "bench/bench_producer.py --events 2000 --repeat 1",
        "eventhubs_sink_events_per_second_per_core": "bench/bench_eventhubs_sink.py --events 2000",
        "eventhubs_bytes_per_event": "bench/bench_eventhubs_sink.py --events 2000",
    }
    for name, command in recorded.items():
        entry = data["figures"][name]
        assert entry["status"] == "measured", name
        assert math.isfinite(entry["value"]) and entry["value"] > 0, name
        assert entry["how"].startswith(command), entry["how"]
        assert re.search(r"\(\d+ cores, load average \d+\.\d at the start\)$", entry["how"])
        when = datetime.strptime(entry["measured_at"], "%Y-%m-%dT%H:%M:%SZ")
        assert when.replace(tzinfo=timezone.utc) >= started, entry
        assert entry["unit"], name
    assert 150 < measured.eventhubs_bytes_per_event < 1000  # a size, whatever the machine's load
    # The committed figures and the generated doc are left alone.
    assert MEASURED_FILE.read_bytes() == committed
    assert (ROOT / "docs" / "capacity.md").read_bytes() == doc


def test_a_quick_run_never_records_into_the_committed_file() -> None:
    done = run_all("producer", "--quick", "--record")
    assert done.returncode == 2
    assert "give --record PATH" in done.stderr
    # A name after --record would be taken as its PATH (and every benchmark run): refused.
    done = run_all("--quick", "--record", "producer")
    assert done.returncode == 2
    assert "put the names before --record" in done.stderr


def cited_commands() -> set[str]:
    """The commands of the README's Performance table and docs/capacity.md's sweeps."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Performance", 1)[1].split("\n## ", 1)[0]
    capacity = (ROOT / "docs" / "capacity.md").read_text(encoding="utf-8")
    sweeps = capacity.split("## Measuring the figures", 1)[1].split("\n## ", 1)[0]
    pattern = r"`((?:SMARTGRID_\w+=\S+ )?python bench/[^`]+)`"
    commands = set(re.findall(pattern, table))
    commands |= {c for c in re.findall(pattern, sweeps) if "--sweep" in c}
    assert len(commands) >= 10, commands
    return commands


def test_run_all_runs_every_command_the_docs_cite() -> None:
    listed = set()
    for record in ([], ["--record"]):
        done = run_all("--dry-run", "--sweeps", *record)
        assert done.returncode == 0, done.stderr
        listed |= set(re.findall(r"^=== (.+) ===$", done.stdout, re.M))
    assert cited_commands() <= listed, sorted(cited_commands() - listed)
    quick = run_all("--dry-run", "--quick", "--sweeps").stdout
    assert "bench_live.py" not in quick and quick.count("===") == 2 * 9


@pytest.fixture
def bench_ingest():
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("bench_ingest")
    finally:
        sys.path.remove(str(BENCH))


def test_ingest_bench_prints_its_ratio_against_its_baseline(
    spark, lake, tmp_path, capsys, bench_ingest
) -> None:
    """The ingest benchmark's measurement at 2,000 events, in the session's SparkSession."""
    from ingest.config import IngestConfig

    bad = bench_ingest.generate_landing(Path(lake.landing), 2000, 2)
    result = bench_ingest.measure(
        spark, IngestConfig(lake=lake), str(tmp_path / "baseline"), 2000, bad
    )

    out = capsys.readouterr().out
    line = re.search(r"^ratio ingest/baseline: (\d+\.\d\d)x \(goal >= 0\.5x\); goal >= ", out, re.M)
    assert line, out
    assert float(line.group(1)) == pytest.approx(result["ratio"], abs=0.006)
    assert re.search(r"^baseline spark\.read\.json -> 1 Delta table: .* events/s$", out, re.M)
    assert spark.read.format("delta").load(str(tmp_path / "baseline")).count() > 0
