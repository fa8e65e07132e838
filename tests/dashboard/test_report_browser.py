"""The dashboard in a real browser: headless Chromium (Debian's package) lays out every chart.

The page's own script records, per chart, how many marks got a non-empty layout box; Chromium's
``--dump-dom`` hands the DOM back after load. A screenshot is kept in tests/artifacts/ for people.
``make test`` installs Chromium first (scripts/ensure_chromium.sh).
"""

from __future__ import annotations

import os
import struct
import subprocess
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pytest
from htmltree import parse
from sample_data import make_data

from dashboard.model import DashboardData
from dashboard.render import (
    CHART_DAILY,
    CHART_DAYPART,
    CHART_TARGET,
    CHART_TREND,
    CHARTS,
    render_dashboard,
    write_dashboard,
)

CHROMIUM = os.environ.get("SMARTGRID_CHROMIUM", "/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
WIDTH = 1400


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run scripts/ensure_chromium.sh (make test does)")
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    proc = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def png_size_and_colours(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values in the (filtered) pixel data."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def make_empty() -> DashboardData:
    return DashboardData(
        generated_at=datetime(2026, 1, 12, tzinfo=timezone.utc), lake="lake", top_n=10
    )


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dashboard") / "dashboard.html"
    return write_dashboard(render_dashboard(make_data()), out)


def dump_dom(page: Path, tmp_path: Path):
    """Load the page, let its script run, return the DOM; fail on any script error."""
    proc = chromium(
        tmp_path,
        "--enable-logging=stderr",
        f"--window-size={WIDTH},1800",
        "--dump-dom",
        page.as_uri(),
    )
    errors = [line for line in proc.stderr.splitlines() if "CONSOLE" in line and "Uncaught" in line]
    assert not errors, errors
    return parse(proc.stdout)


def test_every_chart_renders_with_data_in_chromium(dashboard: Path, tmp_path: Path) -> None:
    dom = dump_dom(dashboard, tmp_path)
    [root] = [n for n in dom.iter() if n.tag == "html"]
    assert root.attrs.get("data-dashboard-ready") == "true", "the page script did not run"
    for name in CHARTS:
        [node] = dom.find_all(data_chart=name)
        marks = node.find_all(data_mark=None)
        assert int(node.attrs["data-points"]) > 0, name
        assert marks, f"{name}: nothing drawn"
        # Every mark was laid out with a non-empty box by the browser.
        assert int(node.attrs["data-rendered-marks"]) == len(marks), name


def test_empty_dashboard_loads_with_its_no_data_state(tmp_path: Path) -> None:
    page = write_dashboard(render_dashboard(make_empty()), tmp_path / "empty.html")
    dom = dump_dom(page, tmp_path)
    [root] = [n for n in dom.iter() if n.tag == "html"]
    assert root.attrs.get("data-dashboard-ready") == "true"
    for name in (CHART_TREND, CHART_DAYPART, CHART_DAILY, CHART_TARGET):
        [node] = dom.find_all(data_chart=name)
        assert node.attrs["data-rendered-marks"] == "0"
        assert "No data yet" in node.all_text()


def test_screenshot_is_saved(dashboard: Path, tmp_path: Path, artifacts_dir: Path) -> None:
    dom = dump_dom(dashboard, tmp_path)
    [root] = [n for n in dom.iter() if n.tag == "html"]
    height = int(root.attrs["data-page-height"])
    assert 600 < height < 6000
    shot = artifacts_dir / "dashboard.png"
    shot.unlink(missing_ok=True)
    chromium(
        tmp_path, f"--window-size={WIDTH},{height}", f"--screenshot={shot}", dashboard.as_uri()
    )
    width, got_height, colours = png_size_and_colours(shot)
    assert (width, got_height) == (WIDTH, height)
    # A blank or single-colour page compresses to a handful of byte values.
    assert colours > 100
