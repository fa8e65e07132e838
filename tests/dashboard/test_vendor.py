"""The ECharts set-up step: the pinned sha512 is enforced, an unreachable registry fails clearly,
and the renderer names the set-up step when ECharts is missing.

The tarballs here are built in the test (real gzip'd tar files); the one real download is
``make setup``'s. No network is used: the unreachable registry is a closed local port.
"""

from __future__ import annotations

import base64
import hashlib
import io
import socket
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from dashboard import vendor


def tarball(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


PACKAGE = {"package/dist/echarts.min.js": b"var echarts = {};", "package/LICENSE": b"Apache"}


def test_a_matching_tarball_is_kept(tmp_path: Path) -> None:
    data = tarball(PACKAGE)
    stamp = vendor.extract(data, sri(data), tmp_path)
    assert (tmp_path / vendor.ECHARTS_JS).read_bytes() == b"var echarts = {};"
    assert (tmp_path / vendor.ECHARTS_LICENSE).read_bytes() == b"Apache"
    assert stamp.read_text().split()[:2] == ["echarts", vendor.ECHARTS_VERSION]


def test_a_tarball_not_matching_the_pinned_hash_is_refused(tmp_path: Path) -> None:
    good = tarball(PACKAGE)
    tampered = tarball({**PACKAGE, "package/dist/echarts.min.js": b"steal();"})
    with pytest.raises(vendor.VendorError, match="does not match its pinned sha512"):
        vendor.extract(tampered, sri(good), tmp_path)
    assert not (tmp_path / vendor.ECHARTS_JS).exists()


def test_the_pinned_file_is_the_one_on_disk() -> None:
    """`make setup` fetched the pinned version; its stamp names the pinned integrity."""
    assert vendor.is_fetched(), "run `python -m dashboard.vendor` (make setup does)"
    assert "echarts" in vendor.echarts_source()[:2000].lower()


def test_offline_fetch_fails_with_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(vendor.VendorError, match=r"could not download ECharts .*make setup"):
        vendor.fetch(tmp_path, url=f"http://127.0.0.1:{port}/echarts.tgz", timeout=5)


def test_missing_echarts_names_the_set_up_step(tmp_path: Path) -> None:
    with pytest.raises(vendor.VendorError, match=r"python -m dashboard.vendor"):
        vendor.echarts_source(tmp_path)


def test_the_wheel_ships_the_page_script_and_template(tmp_path: Path) -> None:
    """The project's wheel (as the bundle builds it) carries app.js and the template, and not
    the vendored ECharts (fetched where the report runs)."""
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path),
            str(root),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [wheel] = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"dashboard/app.js", "dashboard/template.py", "dashboard/vendor.py"} <= names
    assert not [n for n in names if n.startswith("dashboard/vendor/")]
