"""Live mode refreshes only what its view reads: the dashboard's and the CSV's marts and their
parents, without the staging views (``dbt ls`` on the real project: a parse, no warehouse)."""

from __future__ import annotations

from pathlib import Path

from dashboard.load import REQUIRED_TABLES
from pipeline.live import LIVE_EXCLUDE, LIVE_MARTS, LIVE_SELECT
from smartgrid import catalog
from smartgrid.lake import Lake
from transform import runner


def _models(lake: Lake, *selection: str) -> set[str]:
    args = ["ls", "--resource-type", "model", "--output", "name", "--quiet", *selection]
    result = runner.run_dbt(args, lake)
    assert result.success, result.exception
    return set(result.result)


def test_the_live_refresh_selects_the_views_marts_and_their_parents_only(tmp_path: Path) -> None:
    lake = Lake.resolve(str(tmp_path / "lake"))
    every = _models(lake)
    live = _models(lake, "--select", LIVE_SELECT, "--exclude", LIVE_EXCLUDE)
    views = _models(lake, "--select", "config.materialized:view")

    # Everything the dashboard and the CSV read is refreshed, with what it is built from.
    assert set(REQUIRED_TABLES) | {catalog.INGEST_DAILY, catalog.QUARANTINE_REASONS} <= live
    assert catalog.EXPORT_RELATION in live
    assert set(LIVE_MARTS) <= live
    assert set(catalog.CLEAN_MODELS) <= live
    # ... and nothing else: no view (defined once by the first run), no mart the view never reads.
    assert views and not views & live
    assert catalog.METERS not in live
    assert live < every - views
