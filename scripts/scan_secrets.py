"""Fail when a tracked file holds something that looks like a real credential.

Runs in `make test` (and so in CI). Patterns cover what this project handles: Event Hubs /
Service Bus connection strings (SharedAccessKey), storage account keys and SAS signatures,
Databricks personal access tokens, and private keys. Placeholders such as `<key>` or `...`
are not secrets and do not match (a real key is long base64).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PATTERNS: dict[str, re.Pattern[str]] = {
    "Event Hubs / Service Bus shared access key": re.compile(
        r"SharedAccessKey=[A-Za-z0-9+/]{30,}={0,2}"
    ),
    "storage account key": re.compile(r"AccountKey=[A-Za-z0-9+/]{60,}={0,2}"),
    "SAS signature": re.compile(r"[?&]sig=[A-Za-z0-9%+/]{30,}"),
    "Databricks personal access token": re.compile(r"\bdapi[0-9a-f]{32}\b"),
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH )?PRIVATE KEY-----"),
    # Service principal (Entra ID app) client secret: 3 chars, a digit, "Q~", then 31-34 chars.
    "Azure AD client secret": re.compile(
        r"(?<![A-Za-z0-9_.~-])[A-Za-z0-9_.~-]{3}[0-9]Q~[A-Za-z0-9_.~-]{31,34}(?![A-Za-z0-9_.~-])"
    ),
    # A storage key or client secret written as a literal Spark setting instead of a
    # {{secrets/<scope>/<key>}} reference (cluster spark_conf, databricks.yml, notebooks).
    "storage credential in a Spark setting": re.compile(
        r"fs\.azure\.account\.(?:key|oauth2\.client\.secret)[\w.-]*[\"']?\s*[:=]\s*[\"']?"
        r"(?!\{\{secrets/)[A-Za-z0-9+/_.~-]{30,}"
    ),
}

# This file names the patterns; test fixtures build fake keys at run time instead of storing them.
ALLOW = {"scripts/scan_secrets.py"}


def tracked_files(root: Path) -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
        return [root / name for name in out.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: scan everything
        return [p for p in root.rglob("*") if p.is_file() and ".venv" not in p.parts]


def scan(root: Path, files: list[Path] | None = None) -> list[str]:
    findings = []
    for path in files if files is not None else tracked_files(root):
        rel = path.relative_to(root).as_posix()
        if rel in ALLOW or not path.is_file():
            continue
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            for kind, pattern in PATTERNS.items():
                if pattern.search(line):
                    # Name the place and the kind, never the value.
                    findings.append(f"{rel}:{lineno}: looks like a {kind}")
    return findings


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path.cwd()
    findings = scan(root.resolve())
    for finding in findings:
        print(finding, file=sys.stderr)
    if findings:
        print(
            f"secret scan: {len(findings)} finding(s); move secrets to env vars or a secret scope",
            file=sys.stderr,
        )
        return 1
    print("secret scan: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
