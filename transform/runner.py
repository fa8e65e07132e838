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
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from smartgrid import catalog, logs
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
    progress: Callable[[int, int | None], None] | None = None,
    manifest=None,
):
    """Run ``dbt <args>`` in-process against ``lake``; returns dbt's ``dbtRunnerResult``.

    ``spark`` is an already running Hive-enabled session (tests pass theirs); without it the
    project's session is started. Commands that need no warehouse (parse, ls) start none.
    dbt's log goes to ``<lake>/logs/dbt.log``; its console output only with ``--verbose``.
    ``progress(done, total)`` is called as each node (model, test, seed) finishes.
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
    command += ["--log-path", str(logs.log_dir(lake.root))]
    if not logs.verbose() and command[0] not in ("ls", "list"):  # ls prints its answer
        command += ["--log-level", "none", "--log-level-file", "debug"]
    callbacks = [_NodeCounter(progress)] if progress else []

    with lake_env(lake):
        if needs_warehouse and spark is None:
            spark = start_spark(lake)
        saved = {key: spark.conf.get(key, None) for key in _RESTORED_CONF} if spark else {}
        try:
            result = dbtRunner(callbacks=callbacks, manifest=manifest).invoke(command)
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
    progress: Callable[[int, int | None], None] | None = None,
    manifest=None,
    exclude_resource_types: Sequence[str] = (),
):
    """``dbt build`` (or ``run`` / ``test`` / ``seed``); raises SmartgridError when dbt fails."""
    args = [command]
    if select:
        args += ["--select", select]
    if exclude:
        args += ["--exclude", exclude]
    for resource_type in exclude_resource_types:
        args += ["--exclude-resource-type", resource_type]
    if full_refresh:
        args.append("--full-refresh")
    if target:
        args += ["--target", target]
    lake = (lake or Lake.resolve()).ensure()
    result = run_dbt(
        args, lake, dbt_vars=dbt_vars, spark=spark, progress=progress, manifest=manifest
    )
    if not result.success:
        raise SmartgridError(f"dbt {command} failed: {failure(result)}", exit_code=1)
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
        raise SmartgridError(f"export of {relation} failed: {failure(result)}", exit_code=1)
    published = publish_local(target.parent)
    if target not in published:
        raise SmartgridError(f"export of {relation} wrote no file for {target}", exit_code=1)
    return target


class _NodeCounter:
    """A dbt event callback: ``progress(done, total)`` as each node finishes."""

    def __init__(self, progress: Callable[[int, int | None], None]) -> None:
        self.progress = progress
        self.done = 0
        self.total: int | None = None

    def __call__(self, event) -> None:
        name = event.info.name
        if name == "ConcurrencyLine":
            self.total = int(getattr(event.data, "node_count", 0) or 0) or None
        elif name == "LogStartLine":
            # ConcurrencyLine's count leaves out unit tests; each node's start line carries
            # the count dbt numbers its nodes by ("5 of 119 START ...").
            self.total = max(self.total or 0, int(getattr(event.data, "total", 0) or 0)) or None
        elif name == "NodeFinished":
            self.done += 1
            self.progress(self.done, self.total)


# dbt's lines of an error that say only what kind it is or where ("Runtime Error",
# "Compilation Error in model x (models/x.sql)"); the line after them says what is wrong.
_HEADING = re.compile(r"[\w ]*[Ee]rror:?|.*\b[Ee]rror in \S+ \S+.*")
_FAILED = {"error", "fail", "runtime error"}


def failure(result) -> str:
    """dbt's own message for a failed invocation, on one line."""
    if result.exception is not None:
        return _one_line(str(result.exception)) or type(result.exception).__name__
    results = list(getattr(getattr(result, "result", None), "results", None) or [])
    failed = [r for r in results if str(getattr(r, "status", "")).lower() in _FAILED]
    if not failed:
        return "see dbt's log"
    first = failed[0]
    node = getattr(first, "node", None)
    where = f"{node.resource_type} {node.name}: " if node is not None else ""
    more = f" (and {len(failed) - 1} more failed)" if len(failed) > 1 else ""
    return f"{where}{_one_line(first.message or str(first.status))}{more}"


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    # "Runtime Error", then "Compilation Error in model x", then the cause: keep up to it.
    kept = [lines[0]]
    while _HEADING.fullmatch(kept[-1]) and len(kept) < min(len(lines), 3):
        kept.append(lines[len(kept)])
    return ": ".join(kept)
