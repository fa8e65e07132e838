"""Run the dbt project in-process on the local Spark session, and publish its CSV export.

dbt-spark's ``session`` method runs every statement on ``SparkSession.builder.getOrCreate()``,
so starting the project's own session first (Hive-enabled: dbt keeps its tables in the Derby
metastore under the lake) makes dbt reuse it: one JVM, the Delta packages resolved once, and in
tests the session fixture's catalog.

Library functions (the demo and tests call these):

- ``run_dbt(args, lake)``: ``dbt <args>`` against the lake; returns dbt's ``dbtRunnerResult``.
- ``build(lake, ...)``: ``dbt build``; raises ``SmartgridError`` when it fails.
- ``parse_manifest(lake)``: the parsed project, which repeated runs pass as ``manifest=``.
- ``export_csv(lake, ...)``: run the ``export_csv`` macro, publish the file atomically, return its path.

Profiles (``transform.profiles``), the Derby metastore's lock (``transform.metastore``) and the
publishing of staged exports (``transform.publish``) are modules of their own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from smartgrid import catalog
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake
from transform.metastore import is_metastore_lock, metastore_locked_error, start_spark
from transform.profiles import PROJECT_DIR, lake_env, profiles_dir
from transform.publish import publish_local

DEFAULT_EXPORT_RELATION = catalog.EXPORT_RELATION
DEFAULT_EXPORT_NAME = catalog.CURATED_CSV_NAME

# Session settings dbt-spark's profile overrides at run time (it forces ANSI mode off); put back
# afterwards so code sharing the session (the ingest job, other tests) keeps its own.
_RESTORED_CONF = ("spark.sql.ansi.enabled", "spark.sql.shuffle.partitions")


def run_dbt(
    args: Sequence[str],
    lake: Lake | None = None,
    *,
    dbt_vars: Mapping[str, Any] | None = None,
    spark=None,
    manifest=None,
):
    """Run ``dbt <args>`` in-process against ``lake``; returns dbt's ``dbtRunnerResult``.

    ``spark`` is an already running Hive-enabled session (tests pass theirs); without it the
    project's session is started. Commands that need no warehouse (parse, ls) start none.
    ``manifest`` is a parsed project (``parse_manifest``) that dbt then uses instead of parsing
    again: for repeated runs of an unchanged project with the same vars (live mode).
    """
    from dbt.cli.main import dbtRunner

    lake = (lake or Lake.resolve()).ensure()
    command = list(args)
    needs_warehouse = bool(command) and command[0] not in ("parse", "ls", "list", "clean", "deps")
    if dbt_vars:
        command += ["--vars", json.dumps(dict(dbt_vars))]
    command += ["--project-dir", str(PROJECT_DIR), "--profiles-dir", profiles_dir()]

    with lake_env(lake):
        if needs_warehouse and spark is None:
            spark = start_spark(lake)
        saved = {key: spark.conf.get(key, None) for key in _RESTORED_CONF} if spark else {}
        try:
            result = dbtRunner(manifest=manifest).invoke(command)
        finally:
            for key, value in saved.items():
                if value is None:
                    spark.conf.unset(key)
                else:
                    spark.conf.set(key, value)
    if result.exception is not None and is_metastore_lock(result.exception):
        raise metastore_locked_error(lake)
    return result


def parse_manifest(lake: Lake | None = None, *, dbt_vars: Mapping[str, Any] | None = None):
    """``dbt parse``: the project's manifest, to pass to later runs as ``manifest``."""
    result = run_dbt(["parse"], lake, dbt_vars=dbt_vars)
    if not result.success:
        reason = f": {result.exception}" if result.exception else " (see dbt's output above)"
        raise SmartgridError(f"dbt parse failed{reason}", exit_code=1)
    return result.result


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
    manifest=None,
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
    result = run_dbt(args, lake, dbt_vars=dbt_vars, spark=spark, manifest=manifest)
    if not result.success:
        reason = f": {result.exception}" if result.exception else " (see dbt's output above)"
        raise SmartgridError(f"dbt {command} failed{reason}", exit_code=1)
    if lake.is_local:
        publish_local(lake.curated)
    return result


def export_csv(
    lake: Lake | None = None,
    *,
    relation: str = DEFAULT_EXPORT_RELATION,
    path: str | None = None,
    spark=None,
    manifest=None,
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
        ["run-operation", "export_csv", "--args", json.dumps(macro_args)],
        lake,
        spark=spark,
        manifest=manifest,
    )
    if not result.success:
        reason = f": {result.exception}" if result.exception else " (see dbt's output above)"
        raise SmartgridError(f"export of {relation} failed{reason}", exit_code=1)
    published = publish_local(target.parent)
    if target not in published:
        raise SmartgridError(f"export of {relation} wrote no file for {target}", exit_code=1)
    return target
