"""Load, render, write: the one call behind ``smartgrid report`` (and ``make demo``)."""

from __future__ import annotations

from pathlib import Path

from dashboard.columns import DASHBOARD_NAME
from dashboard.load import load_dashboard
from dashboard.render import render_dashboard, write_dashboard
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake


def default_output(lake: Lake) -> Path:
    """``<lake>/curated/dashboard.html``; a remote lake needs an explicit local ``--out``."""
    if not lake.is_local:
        raise SmartgridError(
            f"the lake {lake.root} is not a local directory: pass --out PATH for the dashboard file"
        )
    return Path(lake.curated.removeprefix("file:")) / DASHBOARD_NAME


def check_output(out: Path) -> Path:
    """Refuse an unusable output path before any Spark work starts."""
    if out.is_dir():
        raise SmartgridError(
            f"--out {out} is a directory; give a file name such as {out / DASHBOARD_NAME}"
        )
    if out.suffix.lower() not in {".html", ".htm"}:
        raise SmartgridError(f"--out {out} should end in .html")
    return out


def build_dashboard(
    spark,
    lake: Lake,
    *,
    out: Path | None = None,
    top_n: int = 10,
    refresh_seconds: int | None = None,
    allow_missing: bool = False,
) -> Path:
    """Render the dashboard of ``lake`` with the caller's SparkSession; return the file written."""
    target = check_output(out or default_output(lake))
    data = load_dashboard(spark, lake, top_n=top_n, allow_missing=allow_missing)
    return write_dashboard(render_dashboard(data, refresh_seconds=refresh_seconds), target)
