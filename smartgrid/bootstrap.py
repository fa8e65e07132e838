"""One-time set-up run by ``make setup``: check Java, resolve Spark's JVM packages, write profiles.yml.

After this, Spark starts from the local caches (no network), and ``dbt`` run from the
repository root finds ``profiles.yml`` (copied from ``profiles.example.yml``, git-ignored
so a user's edits stay theirs).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from smartgrid.errors import SmartgridError
from smartgrid.java import check_java
from smartgrid.lake import Lake

ROOT = Path(__file__).resolve().parent.parent


def resolve_jvm_packages() -> None:
    """Start Spark once with every package the project uses so the resolver caches them."""
    from smartgrid.spark import build_spark

    with tempfile.TemporaryDirectory(prefix="smartgrid-setup-") as tmp:
        spark = build_spark(Lake(tmp), "smartgrid-setup", kafka=True)
        try:
            spark.range(1).write.format("delta").save(f"{tmp}/probe")
        finally:
            spark.stop()


def write_profiles(root: Path = ROOT) -> bool:
    target = root / "profiles.yml"
    if target.exists():
        return False
    shutil.copyfile(root / "profiles.example.yml", target)
    return True


def main() -> int:
    try:
        print(f"java {check_java()}: ok")
        print("resolving Spark's JVM packages (Delta, Kafka connector) into the local cache ...")
        resolve_jvm_packages()
        print("JVM packages: ok")
        if (ROOT / "profiles.example.yml").exists() and write_profiles():
            print("wrote profiles.yml from profiles.example.yml")
    except SmartgridError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
