"""The secret scanner that `make test` runs: it must catch real-looking keys and pass placeholders."""

from __future__ import annotations

import base64
import importlib.util
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("scan_secrets", ROOT / "scripts" / "scan_secrets.py")
scan_secrets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scan_secrets)


def _fake_key(n: int) -> str:
    # Built at run time so no key-shaped string is ever committed.
    return base64.b64encode(os.urandom(n)).decode()


def test_catches_connection_strings_and_tokens(tmp_path: Path) -> None:
    leaky = tmp_path / "settings.env"
    leaky.write_text(
        "EVENTHUB_CONNECTION_STR=Endpoint=sb://ns.servicebus.windows.net/;"
        f"SharedAccessKeyName=send;SharedAccessKey={_fake_key(32)}\n"
        f"token = dapi{os.urandom(16).hex()}\n"
        f"DefaultEndpointsProtocol=https;AccountName=a;AccountKey={_fake_key(64)}\n"
    )
    findings = scan_secrets.scan(tmp_path, [leaky])
    assert len(findings) == 3
    assert all(f.startswith("settings.env:") for f in findings)
    # The report names the place, never the secret itself.
    assert not any("SharedAccessKey=" in f for f in findings)


def test_placeholders_pass(tmp_path: Path) -> None:
    doc = tmp_path / "README.md"
    doc.write_text(
        "EVENTHUB_CONNECTION_STR='Endpoint=sb://<ns>.servicebus.windows.net/;"
        "SharedAccessKeyName=<policy>;SharedAccessKey=<key>'\nDATABRICKS_TOKEN=dapi...\n"
    )
    assert scan_secrets.scan(tmp_path, [doc]) == []


def test_repository_is_clean() -> None:
    assert scan_secrets.scan(ROOT) == []
