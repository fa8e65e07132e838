"""The lake's source tables: registered empty before the first ingest, with the ingest's contract."""

from __future__ import annotations

from pathlib import Path

from dbt_events import DBT_VARS

from smartgrid.lake import Lake
from transform import runner as dbt_runner

ROOT = Path(__file__).resolve().parents[2]


def test_build_before_the_first_ingest_creates_empty_sources(spark, tmp_path) -> None:
    """No Delta table yet: registration creates it empty with the contract schema, and the
    staging models read zero rows."""
    from ingest.tables import QUARANTINE_SCHEMA, VALIDATED_SCHEMA

    lake = Lake.resolve(str(tmp_path / "empty")).ensure()
    result = dbt_runner.build(
        lake, select="path:models/staging", dbt_vars=DBT_VARS, spark=spark, command="run"
    )
    assert result.success
    for table, schema in (("validated", VALIDATED_SCHEMA), ("quarantine", QUARANTINE_SCHEMA)):
        df = spark.read.format("delta").load(getattr(lake, table))
        # SQL DDL cannot declare array elements non-null; names and types are the contract
        assert [(f.name, f.dataType.simpleString()) for f in df.schema] == [
            (f.name, f.dataType.simpleString()) for f in schema
        ]
    assert spark.table("smartgrid.stg_meter_events__readings").count() == 0


def test_source_registration_matches_the_ingest_contract() -> None:
    """The DDL register_lake_sources uses for a missing table is ingest/tables.py's schema."""
    import re

    from ingest.tables import QUARANTINE_SCHEMA, RAW_SCHEMA, VALIDATED_SCHEMA

    text = (ROOT / "macros" / "register_lake_sources.sql").read_text()
    pairs = re.findall(
        r"\('(\w+)', '([\w<>]+)'\)", text.split("lake_contract_columns")[1].split("endmacro")[0]
    )
    lineage = pairs[:6]
    declared = {"raw": [], "validated": [], "quarantine": []}
    rest = pairs[6:]
    declared["raw"] = [*rest[0:2], *lineage]
    declared["validated"] = [*rest[2:12], *lineage]
    declared["quarantine"] = [*rest[12:16], *lineage]
    for name, schema in (
        ("raw", RAW_SCHEMA),
        ("validated", VALIDATED_SCHEMA),
        ("quarantine", QUARANTINE_SCHEMA),
    ):
        assert declared[name] == [(f.name, f.dataType.simpleString()) for f in schema], name
