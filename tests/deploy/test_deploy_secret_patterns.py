"""The secret scanner's Azure deployment patterns (scripts/scan_secrets.py, run by `make test`).

Deploying adds two kinds of credential a user may paste into a file: a service principal's
client secret and a storage key written as a literal Spark setting. Both are caught; a
``{{secrets/<scope>/<key>}}`` reference and the guide's placeholders are not.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import secrets
import string
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("scan_secrets", ROOT / "scripts" / "scan_secrets.py")
scan_secrets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scan_secrets)

_SECRET_ALPHABET = string.ascii_letters + string.digits + "_.~-"


def _client_secret() -> str:
    # Built at run time in the shape Entra ID issues, so nothing key-shaped is committed.
    head = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(3))
    tail = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(34))
    return f"{head}8Q~{tail}"


def test_catches_client_secrets_and_literal_storage_settings(tmp_path: Path) -> None:
    key = base64.b64encode(os.urandom(64)).decode()
    leaky = tmp_path / "databricks.yml"
    leaky.write_text(
        f"client_secret: {_client_secret()}\n"
        f'spark.hadoop.fs.azure.account.key.store.dfs.core.windows.net: "{key}"\n'
        "spark.hadoop.fs.azure.account.oauth2.client.secret.store.dfs.core.windows.net: "
        f"{_client_secret()}\n"
    )
    findings = scan_secrets.scan(tmp_path, [leaky])
    assert sorted({f.split(":")[1] for f in findings}) == ["1", "2", "3"]
    assert not any(key in f for f in findings)


def test_secret_references_and_placeholders_pass(tmp_path: Path) -> None:
    doc = tmp_path / "deploy-azure.md"
    doc.write_text(
        "spark.hadoop.fs.azure.account.oauth2.client.secret.<account>.dfs.core.windows.net "
        "{{secrets/smartgrid/sp-client-secret}}\n"
        'spark.hadoop.fs.azure.account.key.<account>.dfs.core.windows.net: "<storage-key>"\n'
        "az ad sp create-for-rbac --name smartgrid-ingest  # prints the secret once: store it\n"
        "https://login.microsoftonline.com/<tenant-id>/oauth2/token\n"
    )
    assert scan_secrets.scan(tmp_path, [doc]) == []
