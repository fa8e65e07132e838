"""The secret scan that `make test` runs (`make secret-scan`: detect-secrets with the committed
``.secrets.baseline`` and the project's plugins in ``scripts/secret_plugins.py``).

Each test runs the Makefile's own target in a temporary git repository holding the Makefile,
the baseline and the plugins, so what is checked is the command `make test` runs. Every fake
key is built at run time: nothing key-shaped is committed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCAN_FILES = ("Makefile", ".secrets.baseline", "scripts/secret_plugins.py")
_CLIENT_SECRET_CHARS = string.ascii_letters + string.digits + "_.~-"


def _b64(n: int) -> str:
    return base64.b64encode(os.urandom(n)).decode()


def _client_secret() -> str:
    # The shape Entra ID issues: 3 chars, a digit, "Q~", 34 chars.
    head = "".join(secrets.choice(_CLIENT_SECRET_CHARS) for _ in range(3))
    tail = "".join(secrets.choice(_CLIENT_SECRET_CHARS) for _ in range(34))
    return f"{head}8Q~{tail}"


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    """A git repository with the scan's files, a committed clean file and ``files`` (untracked:
    the scan covers what git would track, so a key is caught before its first commit)."""
    repo = tmp_path / "repo"
    for name in SCAN_FILES:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    (repo / "README.md").write_text("A clean file.\n")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "add", "."], cwd=repo, check=True, env=env)
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    return repo


def _scan(repo: Path) -> subprocess.CompletedProcess[str]:
    """`make secret-scan` in ``repo``, with the tools of the Python running the tests."""
    return subprocess.run(
        ["make", "-s", "--no-print-directory", "secret-scan", f"BIN={Path(sys.executable).parent}"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_make_test_runs_the_scan() -> None:
    recipe = re.search(r"(?m)^test:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text())
    assert recipe and "secret-scan" in recipe.group(1).splitlines()[0]


def test_planted_keys_fail_the_scan_naming_each_file(tmp_path: Path) -> None:
    keys = {
        "eventhub": _b64(32),
        "storage": _b64(64),
        "databricks": f"dapi{os.urandom(16).hex()}",
        "client": _client_secret(),
        "spark": _b64(64),
        "sas": _b64(32),
    }
    planted = {
        "config/eventhub.env": "EVENTHUB_CONNECTION_STR=Endpoint=sb://ns.servicebus.windows.net/;"
        f"SharedAccessKeyName=send;SharedAccessKey={keys['eventhub']}\n",
        "config/storage.env": "DefaultEndpointsProtocol=https;AccountName=store;"
        f"AccountKey={keys['storage']};EndpointSuffix=core.windows.net\n",
        "notebooks/query.py": f'host = "adb-1.azuredatabricks.net"\nauth = "{keys["databricks"]}"\n',
        "deploy/sp.yml": f"client_secret: {keys['client']}\n",
        "resources/cluster.yml": "spark.hadoop.fs.azure.account.key.store.dfs.core.windows.net: "
        f'"{keys["spark"]}"\n',
        "docs/sas.md": f"https://store.blob.core.windows.net/c?sv=2022-11-02&sig={keys['sas']}\n",
    }
    result = _scan(_repo(tmp_path, planted))
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    for name in planted:
        assert f"Location:    {name}:" in out, (name, out)
    # The report names the place and the kind, never the secret itself.
    assert not any(key in out for key in keys.values())


@pytest.mark.parametrize(
    "text",
    [
        # The guides' placeholders and secret-scope references.
        "EVENTHUB_CONNECTION_STR='Endpoint=sb://<ns>.servicebus.windows.net/;"
        "SharedAccessKeyName=<policy>;SharedAccessKey=<key>'\nDATABRICKS_TOKEN=dapi...\n"
        "spark.hadoop.fs.azure.account.oauth2.client.secret.<account>.dfs.core.windows.net "
        "{{secrets/smartgrid/sp-client-secret}}\n"
        'spark.hadoop.fs.azure.account.key.<account>.dfs.core.windows.net: "<storage-key>"\n'
        "https://login.microsoftonline.com/<tenant-id>/oauth2/token\n",
    ],
)
def test_placeholders_pass(tmp_path: Path, text: str) -> None:
    result = _scan(_repo(tmp_path, {"docs/guide.md": text}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "secret scan: clean" in result.stdout


def test_outside_a_git_checkout_the_scan_fails_instead_of_scanning_nothing(tmp_path) -> None:
    for name in SCAN_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}
    result = subprocess.run(
        ["make", "-s", "secret-scan", f"BIN={Path(sys.executable).parent}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode != 0 and "not a git repository" in result.stderr


def test_the_baseline_is_portable_and_holds_no_finding() -> None:
    text = (ROOT / ".secrets.baseline").read_text()
    baseline = json.loads(text)
    assert str(ROOT) not in text and "file:///" not in text
    custom = {p["path"] for p in baseline["plugins_used"] if "path" in p}
    assert custom == {"file://scripts/secret_plugins.py"}
    # False positives are marked at their line (`# pragma: allowlist secret`), so the baseline
    # never goes stale when lines move; a real finding is never recorded here.
    assert baseline["results"] == {}
