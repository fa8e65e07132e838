"""Spark's JVM packages (Delta, the Kafka connector), resolved once into a project-local folder.

``make setup`` runs ``python -m smartgrid.jars``: a throw-away Spark resolves the packages with
its Ivy resolver (warm caches: no network), and the jars it retrieved are copied into
``.spark-jars/`` (git-ignored; ``SMARTGRID_SPARK_JARS`` moves it) with a ``manifest.json``
naming the package coordinates and the jars they brought. Afterwards every session puts that
folder on the class path (smartgrid.spark.spark_conf): no resolution, no network, no Ivy report.
A manifest for other coordinates (a version changed) counts as missing, so setup resolves again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from smartgrid.logs import redirect_output

SPARK_VERSION = "4.2.0"
DELTA_VERSION = "4.4.0"
DELTA_PACKAGE = f"io.delta:delta-spark_4.2_2.13:{DELTA_VERSION}"
KAFKA_PACKAGE = f"org.apache.spark:spark-sql-kafka-0-10_2.13:{SPARK_VERSION}"
# What `make setup` resolves into the jar folder (smartgrid.jars): always both on the class
# path, so a session never needs to know in advance whether it will read Kafka.
ALL_PACKAGES = [DELTA_PACKAGE, KAFKA_PACKAGE]

JARS_ENV = "SMARTGRID_SPARK_JARS"
MANIFEST = "manifest.json"
# smartgrid/log4j2.properties, copied here so dbt's profile names it beside the jars.
LOG4J2_COPY = "log4j2.properties"
LOG4J2_SOURCE = Path(__file__).resolve().with_name("log4j2.properties")
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_JARS_DIR = PROJECT_DIR / ".spark-jars"


def jars_dir() -> Path:
    """The folder: ``$SMARTGRID_SPARK_JARS`` or ``<project>/.spark-jars`` (absolute)."""
    configured = os.environ.get(JARS_ENV)
    return Path(configured).expanduser().resolve() if configured else DEFAULT_JARS_DIR


def read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_ready(folder: Path, packages: list[str]) -> bool:
    """The folder holds a manifest for exactly ``packages`` and every jar it lists."""
    manifest = read_manifest(folder)
    if not manifest or sorted(manifest.get("packages", [])) != sorted(packages):
        return False
    return all((folder / name).is_file() for name in [*manifest.get("jars", []), LOG4J2_COPY])


def resolve(folder: Path, packages: list[str]) -> list[str]:
    """Resolve ``packages`` with Spark's Ivy (a throw-away local session) into ``folder``.

    Spark puts the resolved jars' local paths into ``spark.jars``; those are copied. The folder
    is replaced whole (written beside it, then renamed), so a failed run leaves the old one.
    """
    from pyspark.sql import SparkSession

    with tempfile.TemporaryDirectory(prefix="smartgrid-jars-") as tmp:
        spark = (
            SparkSession.builder.appName("smartgrid-jars")
            .master("local[1]")
            .config("spark.jars.packages", ",".join(packages))
            .config("spark.ui.enabled", "false")
            .config("spark.sql.warehouse.dir", f"{tmp}/warehouse")
            .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={tmp}")
            .getOrCreate()
        )
        try:
            resolved = [
                p.removeprefix("file:")
                for p in spark.sparkContext.getConf().get("spark.jars", "").split(",")
                if p.endswith(".jar")
            ]
        finally:
            spark.stop()
    if not resolved:
        raise RuntimeError(f"Spark resolved no jars for {packages}")
    # Jars Spark already ships (Jackson, Parquet, Hadoop, log4j...) stay out: the class path
    # comes before Spark's own jars, and an older copy there would shadow Spark's. With
    # spark.jars.packages Spark's own copies win too, so this keeps the same classes.
    shipped = _spark_artifacts()
    provided = sorted(Path(p).name for p in resolved if _artifact(Path(p).name) in shipped)
    resolved = [p for p in resolved if _artifact(Path(p).name) not in shipped]
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".spark-jars-", dir=folder.parent))
    names = sorted(Path(p).name for p in resolved)
    try:
        for path in resolved:
            shutil.copy2(path, staging / Path(path).name)
        manifest = {"packages": sorted(packages), "jars": names, "provided_by_spark": provided}
        shutil.copyfile(LOG4J2_SOURCE, staging / LOG4J2_COPY)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already when renamed
    return names


def _artifact(jar_name: str, *, ivy: bool = True) -> str:
    """``org.group_artifact-1.2.3.jar`` (Ivy's name) or ``artifact-1.2.3.jar`` -> ``artifact``."""
    stem = jar_name.removesuffix(".jar")
    if ivy:  # Ivy retrieves as [organisation]_[artifact]-[revision]
        stem = stem.split("_", 1)[-1]
    match = re.match(r"^(.*?)-\d", stem)
    return match.group(1) if match else stem


def _spark_artifacts() -> set[str]:
    import pyspark

    return {
        _artifact(p.name, ivy=False) for p in (Path(pyspark.__file__).parent / "jars").glob("*.jar")
    }


def main() -> int:
    folder = jars_dir()
    if is_ready(folder, ALL_PACKAGES):
        shutil.copyfile(LOG4J2_SOURCE, folder / LOG4J2_COPY)  # the logging may have changed
        (folder / MANIFEST).touch()  # make's target
        print(f"Spark's JVM packages: {folder.name}/ is up to date")
        return 0
    print(f"resolving Spark's JVM packages (Delta, Kafka connector) into {folder.name}/ ...")
    log = Path(tempfile.gettempdir()) / "smartgrid-spark-jars.log"
    try:
        with redirect_output(log):  # Ivy's resolution report goes to the log, not the console
            names = resolve(folder, ALL_PACKAGES)
    except Exception as exc:  # the resolver's report (in the log) names the missing artifact
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(
            f"error: Spark's JVM packages could not be resolved (network access to Maven "
            f"Central is needed once): {first} (full log: {log})",
            file=sys.stderr,
        )
        return 1
    print(f"Spark's JVM packages: {len(names)} jars in {folder.name}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
