"""``smartgrid demo --live``: streams, refreshes the curated table, and stops on Ctrl-C losing nothing.

A refresh starts only once new data has landed, so the first refresh already shows readings, and
each refresh reports the newest reading's age and the longest wait of the events it showed.

Runs the real command in its own process (its own JVM and metastore under a temporary lake);
synchronisation is by reading its output line by line, never by sleeping.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_live_mode_refreshes_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    env = {**os.environ, "SMARTGRID_DRIVER_MEMORY": "2g", "SMARTGRID_SHUFFLE_PARTITIONS": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "demo",
            "--live",
            "--lake",
            str(lake),
            "--meters",
            "20",
            "--ingest-every",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    # A hung process must fail the test, not hang the suite: kill it after 15 minutes.
    watchdog = threading.Timer(900, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            # Stop once a refresh has shown readings in the curated table.
            match = re.match(r"refresh \d+: ([\d,]+) curated readings", line)
            if match and int(match.group(1).replace(",", "")) > 0:
                process.send_signal(signal.SIGINT)
                break
        lines.extend(process.stdout)
        process.wait(timeout=600)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
    output = "".join(lines)
    assert process.returncode == 0, output
    produced = int(re.search(r"events produced\s+([\d,]+)", output).group(1).replace(",", ""))
    in_raw = int(re.search(r"events in raw\s+([\d,]+)", output).group(1).replace(",", ""))
    assert produced > 0
    assert in_raw == produced  # the producer's last batch and the last micro-batch were kept
    assert re.search(r"lost\s+0\b", output)
    # The first refresh waited for the first micro-batch, so it showed readings; the oldest event
    # it showed (sent when the producer started) waited at least as long as the newest one.
    first = re.search(
        r"refresh 1: ([\d,]+) curated readings, took [\d.]+ s \(dbt [\d.]+, csv [\d.]+, "
        r"dashboard [\d.]+\), newest reading ([\d.]+) s old, oldest new event waited ([\d.]+) s",
        output,
    )
    assert first, output
    assert int(first.group(1).replace(",", "")) > 0
    assert float(first.group(3)) >= float(first.group(2)) > 0
    assert (lake / "curated" / "dashboard.html").is_file()
    assert (lake / "curated" / "smart_grid_curated.csv").is_file()
