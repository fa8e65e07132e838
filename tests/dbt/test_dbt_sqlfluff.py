"""sqlfluff lints the dbt models (.sqlfluff holds the rules)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sqlfluff_lint_models() -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "sqlfluff"), "lint", "models"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
