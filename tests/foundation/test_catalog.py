"""smartgrid.catalog names what dbt builds: checked against the manifest of an offline ``dbt parse``.

The dashboard, the demo, live mode and the CSV export read the lake's tables and dbt's models
by path under these names; a model renamed or moved in dbt fails here, not in a dashboard.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smartgrid import catalog
from smartgrid.lake import Lake


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from transform import runner

    root = tmp_path_factory.mktemp("catalog")
    target = root / "target"
    # parse needs no warehouse: no Spark starts, nothing is built.
    result = runner.run_dbt(["parse", "--target-path", str(target)], Lake.resolve(str(root)))
    assert result.success, result.exception
    return json.loads((target / "manifest.json").read_text(encoding="utf-8"))


def _models(manifest: dict, folder: str) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["original_file_path"].startswith(folder)
    }


def _location_zone(node: dict) -> str:
    return str(node["config"]["location_root"]).rstrip("/").rsplit("/", 1)[-1]


def test_the_marts_are_the_catalogs_marts(manifest: dict) -> None:
    marts = _models(manifest, "models/marts/")
    not_built = sorted(set(catalog.MARTS) - set(marts))  # named here, unknown to dbt
    not_named = sorted(set(marts) - set(catalog.MARTS))  # built by dbt, not named here
    assert (not_built, not_named) == ([], [])


def test_every_catalog_mart_dbt_has_is_kept_under_curated(manifest: dict) -> None:
    marts = _models(manifest, "models/marts/")
    present = [name for name in catalog.MARTS if name in marts]
    # The marts the dashboard, the demo and the export read must be there on every branch.
    for name in (catalog.READINGS, catalog.METER_DAILY, catalog.FLEET_DAILY, catalog.METERS):
        assert name in present
    assert {name: _location_zone(marts[name]) for name in present} == dict.fromkeys(
        present, "curated"
    )
    assert catalog.EXPORT_RELATION in marts


def test_the_clean_models_are_kept_under_clean(manifest: dict) -> None:
    clean = _models(manifest, "models/intermediate/clean/")
    assert sorted(clean) == sorted(catalog.CLEAN_MODELS)
    assert all(_location_zone(node) == "clean" for node in clean.values())


def test_the_lake_tables_are_the_events_source(manifest: dict) -> None:
    tables = {
        source["name"]
        for source in manifest["sources"].values()
        if source["source_name"] == catalog.EVENTS_SOURCE
    }
    assert tables >= set(catalog.LAKE_TABLES)


def test_the_catalog_paths_are_the_lakes_zones(tmp_path: Path) -> None:
    lake = Lake.resolve(str(tmp_path))
    assert catalog.mart_path(lake, catalog.READINGS) == f"{lake.curated}/{catalog.READINGS}"
    assert catalog.clean_path(lake) == f"{lake.clean}/{catalog.CLEAN_READINGS}"
