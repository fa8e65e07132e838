"""``smartgrid build`` (dbt build on the lake) and ``smartgrid export`` (the CSV for Power BI).

Only option parsing here; the work is in transform.runner.
"""

from __future__ import annotations

import argparse
import json
import os

from smartgrid import catalog, logs
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake
from smartgrid.lake_checks import Need


def _parse_vars(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SmartgridError(
            f"--vars must be a JSON object, e.g. '{{\"max_gap_seconds\": 1800}}': {exc}"
        ) from None
    if not isinstance(value, dict):
        raise SmartgridError("--vars must be a JSON object, e.g. '{\"max_gap_seconds\": 1800}'")
    return value


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    build = subparsers.add_parser(
        "build",
        parents=[common],
        help="dbt build: clean and curated layers from the lake's validated events",
        description="Run `dbt build` in-process on the local Spark session (Delta tables in the lake).",
    )
    build.add_argument(
        "-s", "--select", help="dbt selection, e.g. 'marts' or '+fct_meter_readings'"
    )
    build.add_argument("--exclude", help="dbt exclusion")
    build.add_argument("--full-refresh", action="store_true", help="rebuild incremental models")
    build.add_argument("--target", help="dbt target (default: $DBT_TARGET or local)")
    build.add_argument("--vars", help="dbt vars as a JSON object, e.g. '{\"lookback_hours\": 24}'")
    build.add_argument(
        "--export", action="store_true", help="then export the curated CSV (as `smartgrid export`)"
    )
    build.add_argument(
        "--allow-empty",
        action="store_true",
        help="run on a lake with no ingested tables (by default refused: a mistyped --lake)",
    )
    build.set_defaults(func=_build, lake_need=_build_need, lake_lock=True)

    export = subparsers.add_parser(
        "export",
        parents=[common],
        help="export the curated readings to one CSV for Power BI",
        description="Run the export_csv macro and publish the file atomically "
        "(default <lake>/curated/smart_grid_curated.csv).",
    )
    export.add_argument(
        "--relation", default=catalog.EXPORT_RELATION, help="model to export (default: %(default)s)"
    )
    export.add_argument(
        "--path", help="output file (default: <lake>/curated/smart_grid_curated.csv)"
    )
    export.add_argument(
        "--publish-only",
        action="store_true",
        help="only publish exports staged by `dbt run-operation export_csv` or a post-hook",
    )
    export.add_argument(
        "--allow-empty",
        action="store_true",
        help="run on a lake with no ingested tables (by default refused: a mistyped --lake)",
    )
    export.set_defaults(func=_export, lake_need=Need.INGESTED, lake_lock=True)


def _build_need(args: argparse.Namespace) -> Need:
    """A local target builds from the lake's tables; a remote one (Databricks) from its own."""
    target = args.target or os.environ.get("DBT_TARGET") or "local"
    return Need.INGESTED if target == "local" else Need.CREATE


def _build(args: argparse.Namespace) -> int:
    from smartgrid.progress import Progress
    from transform import runner

    dbt_vars = _parse_vars(args.vars)  # refuse a bad option before Spark starts
    lake = Lake.resolve(args.lake)
    progress = Progress("dbt build", unit="nodes")
    try:
        runner.build(
            lake,
            select=args.select,
            exclude=args.exclude,
            full_refresh=args.full_refresh,
            target=args.target,
            dbt_vars=dbt_vars,
            progress=progress.update,
        )
    finally:
        progress.clear()
    print(f"dbt build: done (log: {logs.log_dir(lake.root) / 'dbt.log'})")
    if args.export:
        print(f"exported {runner.export_csv(lake)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from transform import runner

    lake = Lake.resolve(args.lake)
    if args.publish_only:
        from transform.publish import publish_local

        for path in publish_local(lake.curated):
            print(f"published {path}")
        return 0
    print(f"exported {runner.export_csv(lake, relation=args.relation, path=args.path)}")
    return 0
