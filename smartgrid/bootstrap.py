"""One-time set-up run by ``make setup``: check Java, write profiles.yml.

Spark's JVM packages are resolved by the next step of ``make setup`` (smartgrid.jars, into
``.spark-jars/``). After setup ``dbt`` run from the repository root finds ``profiles.yml``
(copied from ``profiles.example.yml``, git-ignored so a user's edits stay theirs).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from smartgrid.errors import SmartgridError
from smartgrid.java import check_java

ROOT = Path(__file__).resolve().parent.parent


def write_profiles(root: Path = ROOT) -> bool:
    target = root / "profiles.yml"
    if target.exists():
        return False
    shutil.copyfile(root / "profiles.example.yml", target)
    return True


def main() -> int:
    try:
        check_java()  # the Makefile's first step already printed the version
        if (ROOT / "profiles.example.yml").exists() and write_profiles():
            print("wrote profiles.yml from profiles.example.yml")
    except SmartgridError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
