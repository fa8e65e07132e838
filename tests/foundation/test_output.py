"""What a person sees: the commands' console output is short and free of engine noise.

Each command runs as a real subprocess (Spark, Delta, dbt; no mocks). The console must hold only
the command's own lines, while ``<lake>/logs/<command>.log`` holds the engines' output; a
failure is one ``error:`` line naming the log; ``--verbose`` brings the engines' lines back.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine_noise import LOG4J_LINE, noisy_lines

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 900


def smartgrid(*args: str, lake: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTGRID_LOG")}
    env.pop("SMARTGRID_CONSOLE_LOG_LEVEL", None)
    env["SMARTGRID_SHUFFLE_PARTITIONS"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args, "--lake", str(lake)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def console(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A small fleet produced and ingested by the commands a user types."""
    lake = tmp_path_factory.mktemp("quiet") / "lake"
    produced = smartgrid("produce", "--meters", "5", "--duration", "2h", lake=lake)
    assert produced.returncode == 0, console(produced)
    ingest = smartgrid("ingest", lake=lake)
    assert ingest.returncode == 0, console(ingest)
    return lake, ingest


def test_ingest_prints_its_summary_and_nothing_of_spark(ingested) -> None:
    lake, proc = ingested
    lines = console(proc).splitlines()
    assert noisy_lines(console(proc)) == []
    assert len(lines) <= 10, lines
    assert lines[0].startswith("ingested 40 events in ")
    log = (lake / "logs" / "ingest.log").read_text(encoding="utf-8")
    # The engines' output is in the log: log4j's lines (our layout) and the JVM's own stderr.
    assert LOG4J_LINE.search(log), log[:2000]
    assert "starting Spark; the JVM's output follows" in log
    assert "batch 0: raw 40" in log  # the ingest's own records


def test_verbose_puts_the_engine_lines_back(ingested) -> None:
    lake, _ = ingested
    proc = smartgrid("ingest", "--verbose", lake=lake)
    assert proc.returncode == 0, console(proc)
    assert LOG4J_LINE.search(proc.stderr), proc.stderr[-2000:]
    assert re.search(r"^INFO ingest\.job: ingest started", proc.stderr, re.M), proc.stderr[-2000:]


def test_a_refused_option_is_one_line_and_creates_no_lake(tmp_path: Path) -> None:
    lake = tmp_path / "never"
    proc = smartgrid("ingest", "--source", "kafka", "--topic", "t", lake=lake)
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("error: --source kafka needs --kafka-bootstrap"), proc.stderr
    assert not lake.exists()


def test_a_failure_is_one_line_naming_the_problem_and_the_log(tmp_path: Path) -> None:
    """A failure after Spark started (dbt refuses an unknown target): dbt's own message on the
    one line, the traceback in the log, never on the console."""
    lake = tmp_path / "lake"
    proc = smartgrid("build", "--target", "no_such_target", lake=lake)
    assert proc.returncode != 0
    lines = console(proc).strip().splitlines()
    log = lake / "logs" / "build.log"
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: dbt build failed: "), lines
    assert "no_such_target" in lines[0], lines  # dbt's reason, not a generic one
    assert lines[0].endswith(f"(full log: {log})"), lines
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert LOG4J_LINE.search(text)  # Spark's output went here, not to the console


@pytest.mark.slow
def test_demo_prints_one_line_per_stage_then_the_summary(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    proc = smartgrid("demo", "--meters", "5", "--days", "1", "--no-docs", lake=lake)
    assert proc.returncode == 0, console(proc)[-3000:]
    assert noisy_lines(console(proc)) == []
    lines = proc.stderr.strip().splitlines()
    done = [line for line in lines if ": done in " in line]
    assert len(done) == 5, lines
    for number, line in enumerate(done, 1):
        assert re.fullmatch(rf"\[{number}/5\] .+: done in \d+\.\d s", line), line
    # Not a TTY: a long stage adds a progress line now and then, nothing else.
    progress = re.compile(r"\[\d/5\] .+ \.\.\. [\d,]+( of [\d,]+)? (events|batches|nodes).*")
    assert all(progress.fullmatch(line) for line in lines if line not in done), lines
    assert proc.stdout.lstrip().startswith("summary")
    assert len(proc.stdout.splitlines()) < 40
    log = (lake / "logs" / "demo.log").read_text(encoding="utf-8")
    assert LOG4J_LINE.search(log)
    dbt_log = (lake / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert "OK created sql incremental model" in dbt_log
    # The main job runs the data tests, not dbt's unit tests (`make test` runs those).
    assert re.search(r"PASS \w+_fct_meter_readings_", dbt_log)
    assert "::test_" not in dbt_log


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_rewrites_one_line_and_leaves_only_the_result() -> None:
    from smartgrid.progress import Progress

    now = [0.0]
    screen = _Terminal()
    progress = Progress("[3/5] dbt build", unit="nodes", stream=screen, clock=lambda: now[0])
    progress.start()
    for done in (1, 2, 3):
        now[0] += 1.0
        progress.update(done, 108)
    progress.clear()
    screen.write("[3/5] dbt build: done in 3.0 s\n")
    text = screen.getvalue()
    assert text.count("\n") == 1  # the stage leaves one line
    assert "3 of 108 nodes" in text
    assert text.rsplit("\r\x1b[K", 1)[-1] == "[3/5] dbt build: done in 3.0 s\n"


def test_progress_in_a_pipe_is_a_line_now_and_then() -> None:
    from smartgrid.progress import Progress

    now = [0.0]
    pipe = io.StringIO()
    progress = Progress("[1/5] produce", unit="events", stream=pipe, every=30, clock=lambda: now[0])
    progress.start()  # nothing: not a terminal
    for second in range(1, 91):
        now[0] = float(second)
        progress.update(second * 1000)
    assert pipe.getvalue().splitlines() == [
        "[1/5] produce ... 30,000 events",
        "[1/5] produce ... 60,000 events",
        "[1/5] produce ... 90,000 events",
    ]
