"""`dbt docs generate` on the local target catalogs every relation of the project with typed
columns: the Delta tables too (the clean model, the marts, the seed and the lake sources), whose
columns the metastore does not hold (macros/catalog.sql)."""

from __future__ import annotations

import json

from dbt_events import DBT_VARS

from transform import runner as dbt_runner


def test_docs_catalog_has_every_model_seed_and_source_with_typed_columns(
    spark, built, dbt_lake, tmp_path
) -> None:
    target = tmp_path / "target"
    result = dbt_runner.run_dbt(
        ["docs", "generate", "--target-path", str(target)],
        dbt_lake,
        dbt_vars=DBT_VARS,
        spark=spark,
    )
    assert result.success, result.exception
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))

    # Ephemeral models are no relation, so nothing to catalog (the project has none today).
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed")
        and node["config"]["materialized"] != "ephemeral"
    }
    entries = {**catalog["nodes"], **catalog["sources"]}
    missing = sorted((set(nodes) | set(manifest["sources"])) - set(entries))
    assert missing == [], missing
    for uid in [*nodes, *manifest["sources"]]:
        columns = entries[uid]["columns"]
        assert columns, uid
        untyped = [name for name, column in columns.items() if not column["type"]]
        assert untyped == [], (uid, untyped)

    # The types are the Delta tables' own: a mart, a lake source and the seed.
    for uid, table in (
        ("model.smartgrid.fct_meter_readings", "smartgrid.fct_meter_readings"),
        ("source.smartgrid.meter_events.quarantine", "smartgrid_lake.quarantine"),
        ("seed.smartgrid.dayparts", "smartgrid.dayparts"),
    ):
        fields = spark.table(table).schema.fields
        got = sorted(entries[uid]["columns"].values(), key=lambda c: c["index"])
        assert [(c["name"], c["type"]) for c in got] == [
            (f.name, f.dataType.simpleString()) for f in fields
        ], uid
