"""Run the dbt project in-process on the local Spark session, and publish its CSV export.

dbt-spark's ``session`` method runs every statement on ``SparkSession.builder.getOrCreate()``,
so starting the project's own session first (Hive-enabled: dbt keeps its tables in the Derby
metastore under the lake) makes dbt reuse it: one JVM, the Delta packages resolved once, and in
tests the session fixture's catalog.

Library functions (the demo and tests call these):

- ``run_dbt(args, lake)``: ``dbt <args>`` against the lake; returns dbt's ``dbtRunnerResult``.
- ``build(lake, ...)``: ``dbt build``; raises ``SmartgridError`` when it fails.
- ``export_csv(lake, ...)``: run the ``export_csv`` macro, publish the file atomically, return its path.
- ``publish_staged_exports(directory)``: rename staged exports over their targets.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from smartgrid.errors import SmartgridError
from smartgrid.lake import LAKE_ENV, Lake

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROFILE_EXAMPLE = PROJECT_DIR / "profiles.example.yml"
DEFAULT_EXPORT_RELATION = "fct_meter_readings"
DEFAULT_EXPORT_NAME = "smart_grid_curated.csv"
STAGING_SUFFIX = ".staging"

# Session settings dbt-spark's profile overrides at run time (it forces ANSI mode off); put back
# afterwards so code sharing the session (the ingest job, other tests) keeps its own.
_RESTORED_CONF = ("spark.sql.ansi.enabled", "spark.sql.shuffle.partitions")

# How Derby reports that another JVM holds the metastore (SQLState XSDB6).
_DERBY_LOCKED = ("XSDB6", "Another instance of Derby may have already booted")


def profiles_dir() -> str:
    """Where dbt finds profiles.yml: $DBT_PROFILES_DIR, the repository root, else the example."""
    configured = os.environ.get("DBT_PROFILES_DIR")
    if configured:
        return configured
    if (PROJECT_DIR / "profiles.yml").is_file():
        return str(PROJECT_DIR)
    # A clean clone before `make setup`: the example is the profile (it reads only env vars).
    fallback = Path(tempfile.gettempdir()) / "smartgrid-dbt-profiles"
    fallback.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROFILE_EXAMPLE, fallback / "profiles.yml")
    return str(fallback)


@contextmanager
def _lake_env(lake: Lake) -> Iterator[None]:
    """The profile and dbt_project.yml read the lake from $SMARTGRID_LAKE; set it for one run."""
    previous = os.environ.get(LAKE_ENV)
    os.environ[LAKE_ENV] = lake.root
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(LAKE_ENV, None)
        else:
            os.environ[LAKE_ENV] = previous


def _is_metastore_lock(exc: BaseException) -> bool:
    text = str(exc)
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        text += str(cause)
        cause = cause.__cause__ or cause.__context__
    return any(marker in text for marker in _DERBY_LOCKED)


def metastore_locked_error(lake: Lake) -> SmartgridError:
    return SmartgridError(
        f"the Derby metastore at {lake.metastore} is in use by another process "
        "(Derby admits one at a time: another `smartgrid build`, `dbt` or a notebook on this "
        "lake); stop it and retry, or use another --lake"
    )


def metastore_in_use(lake: Lake) -> bool:
    """Whether another process has booted the lake's Derby metastore.

    Derby holds an exclusive lock on ``metastore_db/dbex.lck`` while booted (a Java FileChannel
    lock, an fcntl lock on POSIX); probing it before starting Spark saves Hive's minute of
    retries and its pages of stack traces.
    """
    if not lake.is_local:
        return False
    lock_file = Path(lake.metastore) / "dbex.lck"
    if not lock_file.exists():
        return False
    try:
        import fcntl
    except ImportError:  # Windows: let Derby report it
        return False
    with lock_file.open("r+b") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(handle, fcntl.LOCK_UN)
    return False


def start_spark(lake: Lake):
    """The Hive-enabled session dbt will reuse; a locked metastore is one clear error."""
    from pyspark.sql import SparkSession

    from smartgrid.spark import build_spark

    # Only before this process starts its own JVM: once it runs, the lock may be our own.
    if SparkSession.getActiveSession() is None and metastore_in_use(lake):
        raise metastore_locked_error(lake)
    spark = build_spark(lake, "smartgrid-dbt", hive=True)
    _quiet_known_metastore_noise(spark)
    try:
        # Touch the catalog now: Derby boots lazily, and its lock error is clearer here than
        # in the middle of dbt's output.
        spark.sql("show databases").collect()
    except Exception as exc:
        if _is_metastore_lock(exc):
            raise metastore_locked_error(lake) from None
        raise
    return spark


def _quiet_known_metastore_noise(spark) -> None:
    """Silence the known-harmless noise of a dbt run; other loggers keep the session's level.

    Replacing a Delta table logs a Hive ERROR with a stack trace (Delta tables are not Hive
    compatible; Spark stores them in its own format and carries on); dbt-spark's session method
    calls ``getOrCreate`` for every statement (a warning each time); and probing a missing
    ``_delta_log`` (macros/register_lake_sources.sql) warns that it is missing.
    """
    try:
        log4j = spark.sparkContext._jvm.org.apache.logging.log4j
        for name in (
            "org.apache.hadoop.hive.metastore.HiveAlterHandler",
            "org.apache.spark.sql.hive.HiveExternalCatalog",
            "org.apache.spark.sql.SparkSession",
            "org.apache.spark.sql.classic.SparkSession",
            "org.apache.spark.sql.execution.streaming.FileStreamSink",
            "org.apache.spark.sql.execution.streaming.sinks.FileStreamSink",  # Spark 4.2
            "org.apache.spark.util.HadoopFSUtils",
        ):
            log4j.core.config.Configurator.setLevel(name, log4j.Level.OFF)
    except Exception:  # logging only: never fail a build over it
        pass


def run_dbt(
    args: Sequence[str],
    lake: Lake | None = None,
    *,
    dbt_vars: Mapping[str, Any] | None = None,
    spark=None,
):
    """Run ``dbt <args>`` in-process against ``lake``; returns dbt's ``dbtRunnerResult``.

    ``spark`` is an already running Hive-enabled session (tests pass theirs); without it the
    project's session is started. Commands that need no warehouse (parse, ls) start none.
    """
    from dbt.cli.main import dbtRunner

    lake = (lake or Lake.resolve()).ensure()
    command = list(args)
    needs_warehouse = bool(command) and command[0] not in ("parse", "ls", "list", "clean", "deps")
    if dbt_vars:
        command += ["--vars", json.dumps(dict(dbt_vars))]
    command += ["--project-dir", str(PROJECT_DIR), "--profiles-dir", profiles_dir()]

    with _lake_env(lake):
        if needs_warehouse and spark is None:
            spark = start_spark(lake)
        saved = {key: spark.conf.get(key, None) for key in _RESTORED_CONF} if spark else {}
        try:
            result = dbtRunner().invoke(command)
        finally:
            for key, value in saved.items():
                if value is None:
                    spark.conf.unset(key)
                else:
                    spark.conf.set(key, value)
    if result.exception is not None and _is_metastore_lock(result.exception):
        raise metastore_locked_error(lake)
    return result


def build(
    lake: Lake | None = None,
    *,
    select: str | None = None,
    exclude: str | None = None,
    full_refresh: bool = False,
    target: str | None = None,
    dbt_vars: Mapping[str, Any] | None = None,
    command: str = "build",
    spark=None,
):
    """``dbt build`` (or ``run`` / ``test`` / ``seed``); raises SmartgridError when dbt fails."""
    args = [command]
    if select:
        args += ["--select", select]
    if exclude:
        args += ["--exclude", exclude]
    if full_refresh:
        args.append("--full-refresh")
    if target:
        args += ["--target", target]
    lake = (lake or Lake.resolve()).ensure()
    result = run_dbt(args, lake, dbt_vars=dbt_vars, spark=spark)
    if not result.success:
        reason = f": {result.exception}" if result.exception else " (see dbt's output above)"
        raise SmartgridError(f"dbt {command} failed{reason}", exit_code=1)
    if lake.is_local:
        publish_staged_exports(lake.curated)
    return result


def export_csv(
    lake: Lake | None = None,
    *,
    relation: str = DEFAULT_EXPORT_RELATION,
    path: str | None = None,
    spark=None,
) -> Path:
    """Export ``relation`` to one CSV (default ``<lake>/curated/smart_grid_curated.csv``).

    The ``export_csv`` macro writes one sorted partition into a hidden staging directory beside
    the target; this renames it over the target (atomic on one file system).
    """
    lake = (lake or Lake.resolve()).ensure()
    if not lake.is_local:
        raise SmartgridError(
            "export_csv publishes local files only; on Databricks run the macro "
            "(dbt run-operation export_csv) and publish from a job task (see docs/dbt.md)"
        )
    target = Path(path).resolve() if path else Path(lake.curated) / DEFAULT_EXPORT_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    macro_args = {"relation": relation, "path": str(target)}
    result = run_dbt(
        ["run-operation", "export_csv", "--args", json.dumps(macro_args)], lake, spark=spark
    )
    if not result.success:
        reason = f": {result.exception}" if result.exception else " (see dbt's output above)"
        raise SmartgridError(f"export of {relation} failed{reason}", exit_code=1)
    published = publish_staged_exports(target.parent)
    if target not in published:
        raise SmartgridError(f"export of {relation} wrote no file for {target}", exit_code=1)
    return target


def publish_staged_exports(directory: str | Path) -> list[Path]:
    """Rename every staged export ``.<name>.staging/part-*.csv`` in ``directory`` to ``<name>``."""
    directory = Path(directory)
    published: list[Path] = []
    if not directory.is_dir():
        return published
    for staging in sorted(directory.glob(f".*{STAGING_SUFFIX}")):
        if not staging.is_dir():
            continue
        parts = sorted(staging.glob("part-*"))
        if len(parts) != 1:
            raise SmartgridError(
                f"staged export {staging} holds {len(parts)} part files, expected exactly one"
            )
        target = directory / staging.name[1 : -len(STAGING_SUFFIX)]
        os.replace(parts[0], target)  # atomic: readers see the old file or the new one
        shutil.rmtree(staging, ignore_errors=True)
        published.append(target)
    return published
