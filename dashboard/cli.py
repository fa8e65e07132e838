"""``smartgrid report``: render the dashboard from the curated tables (options only; work is in
``dashboard``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from smartgrid.lake import Lake
from smartgrid.lake_checks import Need
from smartgrid.options import positive_int


def register(subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "report",
        parents=[common],
        help="render the dashboard (one self-contained HTML file) from the curated tables",
        description=(
            "Render the four visuals (Global Watts Trend, Meter Energy by Daypart, Daily kWh per "
            "Meter, Target Daily kWh), the KPI cards and the data-quality panel into one HTML "
            "file that needs no network to view."
        ),
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        type=Path,
        help="the HTML file to write (default: <lake>/curated/dashboard.html)",
    )
    parser.add_argument(
        "--top",
        metavar="N",
        type=positive_int,
        default=10,
        help="meters shown in the per-meter charts, largest first (default: 10)",
    )
    parser.add_argument(
        "--refresh",
        metavar="SECONDS",
        type=positive_int,
        help="make the page reload itself every SECONDS (for live mode)",
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="render 'no data' for curated tables not built yet instead of failing",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="run on a lake with no ingested tables (by default refused: a mistyped --lake)",
    )
    parser.set_defaults(func=run, lake_need=_need, lake_lock=True)


def _need(args: argparse.Namespace) -> Need:
    """--allow-missing renders 'no data' for what is not built, an empty lake included."""
    return Need.CREATE if args.allow_missing else Need.INGESTED


def run(args: argparse.Namespace) -> int:
    from dashboard.dashboard import build_dashboard, check_output, default_output

    lake = Lake.resolve(args.lake)
    out = check_output((args.out.expanduser().resolve()) if args.out else default_output(lake))

    from pyspark.sql import SparkSession

    from smartgrid.spark import build_spark

    owned = SparkSession.getActiveSession() is None
    started = time.monotonic()
    # No console progress bars: the report prints one line (and runs inside `make demo`).
    spark = build_spark(
        lake, "smartgrid-report", extra_conf={"spark.ui.showConsoleProgress": "false"}
    )
    try:
        path = build_dashboard(
            spark,
            lake,
            out=out,
            top_n=args.top,
            refresh_seconds=args.refresh,
            allow_missing=args.allow_missing,
        )
    finally:
        if owned:
            spark.stop()
    print(f"dashboard: {path} ({time.monotonic() - started:.1f}s)")
    return 0
