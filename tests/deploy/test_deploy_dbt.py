"""The dbt project under dbt-databricks with the deployed profile (deploy/dbt/profiles.yml).

No SQL warehouse is reachable: DBT_HOST points at a closed local port and the token is a dummy,
exactly the two values Databricks injects into a dbt task. The vars are those of the bundle's
`dbt build` command (resources/dbt_job.yml), resolved for the dev target.

What runs offline: parsing the whole project, and compiling every model that needs no query
against the warehouse (views and tables). What cannot: the incremental models (is_incremental()
asks the warehouse whether the table exists; their lookback reads max(ingest_time)) and the
on-run-start registration of the lake tables (it creates tables) - so the compile skips
`config.materialized:incremental` and sets `register_lake_tables: false`.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from bundle_config import ROOT, load_bundle


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    bundle = load_bundle()
    _, job = bundle.jobs["smartgrid_dbt"]
    spec = next(t for t in job["tasks"] if "dbt_task" in t)["dbt_task"]
    build = next(shlex.split(c) for c in bundle.resolve(spec["commands"]) if " build " in c)
    cli_vars = json.loads(build[build.index("--vars") + 1])
    out = tmp_path_factory.mktemp("dbt-databricks")
    env = {
        **os.environ,
        "DBT_HOST": "127.0.0.1:9",  # closed port: any attempted connection fails at once
        "DBT_ACCESS_TOKEN": "dummy-token",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",  # no .user.yml beside the profile
    }
    env.pop("DBT_PROFILES_DIR", None)
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "compile",
            "--target",
            "databricks",
            "--profiles-dir",
            str(ROOT / spec["profiles_directory"]),
            "--target-path",
            str(out / "target"),
            "--log-path",
            str(out / "logs"),
            "--no-partial-parse",
            "--no-introspect",
            "--no-populate-cache",
            "--exclude",
            "config.materialized:incremental",
            "--vars",
            json.dumps({**cli_vars, "register_lake_tables": False}),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    manifest = json.loads((out / "target" / "manifest.json").read_text())
    return out / "target" / "compiled" / "smartgrid", manifest, cli_vars


def test_project_parses_under_dbt_databricks(compiled) -> None:
    _, manifest, cli_vars = compiled
    assert manifest["metadata"]["adapter_type"] == "databricks"
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert len(models) >= 10
    lake = cli_vars["lake_root"]
    assert lake.startswith("abfss://")
    for model in models:
        assert model["database"] == cli_vars["databricks_catalog"], model["name"]
        assert model["schema"] == cli_vars["databricks_schema"], model["name"]
        root = model["config"].get("location_root")
        if model["config"]["materialized"] in ("table", "incremental"):
            # Lake paths switch by configuration only: the lake_root var, nothing in the SQL.
            assert root in (f"{lake}/clean", f"{lake}/curated"), (model["name"], root)
    sources = [s for s in manifest["sources"].values() if s["source_name"] == "meter_events"]
    assert {s["database"] for s in sources} == {cli_vars["databricks_catalog"]}


def test_non_introspective_models_compile_to_unity_catalog_names(compiled) -> None:
    sql_dir, manifest, cli_vars = compiled
    catalog, schema = cli_vars["databricks_catalog"], cli_vars["databricks_schema"]
    staging = (sql_dir / "models/staging/meter_events/stg_meter_events__readings.sql").read_text()
    assert f"`{catalog}`.`smartgrid_lake`.`validated`" in staging
    compiled_marts = {p.stem: p.read_text() for p in (sql_dir / "models" / "marts").glob("*.sql")}
    assert "fct_fleet_daily_target" in compiled_marts
    assert (
        f"`{catalog}`.`{schema}`.`fct_meter_daily_energy`"
        in (compiled_marts["fct_fleet_daily_target"])
    )
    incremental = {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental"
    }
    assert incremental and not incremental & set(compiled_marts)
