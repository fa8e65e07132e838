"""A second ``build`` on a lake another process holds fails at once, in one line naming it.

The holder is a tiny Python process holding ``<lake>/.smartgrid.lock`` through
:func:`smartgrid.lock.lake_lock` (the same lock a real build takes), not a real build: the point
is what the second command does before it would start anything. No mocks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake
from smartgrid.lock import lake_lock, lock_path

ROOT = Path(__file__).resolve().parents[2]

HOLDER = """
import sys
from smartgrid.lake import Lake
from smartgrid.lock import lake_lock
with lake_lock(Lake(sys.argv[1]), "build"):
    print("held", flush=True)
    sys.stdin.read()  # hold until killed (or stdin closes)
"""


def smartgrid(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTGRID_")}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def holder(tmp_path: Path):
    lake = tmp_path / "lake"
    lake.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lake)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"  # the lock is taken: no sleep needed
    yield lake, proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


@pytest.mark.parametrize("command", ["build", "export", "report"])
def test_a_second_command_on_a_held_lake_is_one_line_naming_the_holder(holder, command) -> None:
    lake, proc = holder
    done = smartgrid(command, "--lake", str(lake), "--allow-empty")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith(f"error: the lake {lake} is in use by "), (
        done.stderr
    )
    assert f"`smartgrid build` (pid {proc.pid} " in lines[0]
    assert done.stdout == ""
    # Refused before anything started: no JVM booted Derby, no log was written.
    assert not (lake / "metastore_db").exists()
    assert not (lake / "logs").exists()
    assert not (lake / "warehouse").exists()


def test_a_lock_left_by_a_killed_process_does_not_block_the_next_run(holder) -> None:
    lake, proc = holder
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert f"pid={proc.pid} " in lock_path(Lake(str(lake))).read_text()  # the file stays
    # Past the lock, the build refuses its bad --vars (before Spark): proof the lock was taken.
    done = smartgrid("build", "--lake", str(lake), "--allow-empty", "--vars", "{not json")
    assert done.returncode == 2
    assert done.stderr.startswith("error: --vars must be a JSON object"), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    log = (lake / "logs" / "build.log").read_text()
    assert f"left by `smartgrid build` (pid {proc.pid} " in log
    assert "no longer running" in log


def test_the_lock_is_reentrant_within_a_process_and_exclusive_across_processes(
    tmp_path: Path,
) -> None:
    """The demo and live mode run several stages under the one lock the CLI took."""
    lake = Lake(str(tmp_path))
    with lake_lock(lake, "demo"):
        with lake_lock(lake, "build"):  # same process: no deadlock
            inner: list[BaseException] = []

            def stage() -> None:  # live mode's threads share it too
                try:
                    with lake_lock(lake, "report"):
                        pass
                except BaseException as exc:  # recorded for the assertion
                    inner.append(exc)

            thread = threading.Thread(target=stage)
            thread.start()
            thread.join(timeout=30)
            assert inner == []
        other = subprocess.run(
            [sys.executable, "-c", HOLDER, str(tmp_path)],
            cwd=ROOT,
            input="",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert other.returncode != 0
        assert f"`smartgrid demo` (pid {os.getpid()} " in other.stderr
    # Released on the way out: another process takes it (and gives it back as stdin closes).
    again = subprocess.run(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        cwd=ROOT,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and again.stdout.strip() == "held", again.stderr


def test_a_cloud_lake_is_not_locked_locally() -> None:
    with lake_lock(Lake("abfss://c@a.dfs.core.windows.net/sg"), "build"):
        pass


def test_the_error_is_a_smartgrid_error(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        with (
            pytest.raises(SmartgridError, match=f"pid {proc.pid} "),
            lake_lock(Lake(str(tmp_path)), "export"),
        ):
            pass
    finally:
        proc.kill()
        proc.wait(timeout=30)
