"""Fetch Apache ECharts once, pinned and verified, into ``dashboard/vendor/`` (git-ignored).

``python -m dashboard.vendor`` (run by ``make setup``) downloads the npm registry's tarball of
``ECHARTS_VERSION``, checks it against the registry's sha512 ``integrity`` pinned below, and
keeps ``dist/echarts.min.js`` and the licence. The renderer inlines that file into the page, so
the dashboard opens from disk with no network; only this set-up step needs the registry.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from smartgrid.errors import SmartgridError

ECHARTS_VERSION = "5.6.0"
ECHARTS_TARBALL = f"https://registry.npmjs.org/echarts/-/echarts-{ECHARTS_VERSION}.tgz"
# The registry's `dist.integrity` of that version (Subresource Integrity form).
ECHARTS_INTEGRITY = "sha512-oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA=="  # pragma: allowlist secret

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"
ECHARTS_JS = "echarts.min.js"
ECHARTS_LICENSE = "ECHARTS-LICENSE.txt"
STAMP = ".fetched"
# Members of the tarball kept, and the names they are kept under.
_MEMBERS = {"package/dist/echarts.min.js": ECHARTS_JS, "package/LICENSE": ECHARTS_LICENSE}


class VendorError(SmartgridError):
    """ECharts is not there (or not the pinned one) and could not be fetched."""


def sri_matches(data: bytes, integrity: str) -> bool:
    """Whether ``data`` has the Subresource-Integrity digest ``integrity`` (``sha512-<base64>``)."""
    algo, _, expected = integrity.partition("-")
    if algo != "sha512" or not expected:
        raise VendorError(f"unsupported integrity {integrity!r}: expected sha512-<base64>")
    return base64.b64encode(hashlib.sha512(data).digest()).decode("ascii") == expected


def extract(tarball: bytes, integrity: str, dest: Path) -> Path:
    """Verify ``tarball`` against ``integrity`` and keep the script and licence under ``dest``."""
    if not sri_matches(tarball, integrity):
        raise VendorError(
            f"the ECharts {ECHARTS_VERSION} tarball does not match its pinned sha512 integrity: "
            "refusing to use it"
        )
    dest.mkdir(parents=True, exist_ok=True)
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.name in _MEMBERS and member.isfile():
                fh = tar.extractfile(member)
                if fh is not None:
                    found[_MEMBERS[member.name]] = fh.read()
    missing = sorted(set(_MEMBERS.values()) - set(found))
    if missing:
        raise VendorError(f"the ECharts tarball has no {', '.join(missing)}")
    for name, content in found.items():
        (dest / name).write_bytes(content)
    stamp = dest / STAMP
    stamp.write_text(f"echarts {ECHARTS_VERSION} {integrity}\n", encoding="utf-8")
    return stamp


def is_fetched(dest: Path = VENDOR_DIR) -> bool:
    """The pinned version is already there (the stamp names it and the script exists)."""
    stamp = dest / STAMP
    return (
        (dest / ECHARTS_JS).is_file()
        and stamp.is_file()
        and stamp.read_text(encoding="utf-8").split()
        == ["echarts", ECHARTS_VERSION, ECHARTS_INTEGRITY]
    )


def fetch(dest: Path = VENDOR_DIR, *, url: str = ECHARTS_TARBALL, timeout: float = 60) -> Path:
    """Download, verify and extract the pinned ECharts; a no-op when it is already there."""
    if is_fetched(dest):
        (dest / STAMP).touch()  # newer than vendor.py: make's target is up to date
        return dest / STAMP
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            tarball = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise VendorError(
            f"could not download ECharts {ECHARTS_VERSION} from {url} ({exc}). The dashboard "
            "inlines it; run `python -m dashboard.vendor` (or `make setup`) once with access to "
            "registry.npmjs.org"
        ) from None
    return extract(tarball, ECHARTS_INTEGRITY, dest)


def echarts_source(dest: Path = VENDOR_DIR) -> str:
    """The ECharts script to inline; a clear error naming the set-up step when it is missing."""
    path = dest / ECHARTS_JS
    if not is_fetched(dest):
        raise VendorError(
            f"ECharts {ECHARTS_VERSION} is not in {dest}: run `python -m dashboard.vendor` "
            "(`make setup` does) once with network access to registry.npmjs.org"
        )
    return path.read_text(encoding="utf-8")


def main() -> int:
    try:
        stamp = fetch()
    except SmartgridError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"echarts {ECHARTS_VERSION}: {stamp.parent / ECHARTS_JS} (sha512 verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
