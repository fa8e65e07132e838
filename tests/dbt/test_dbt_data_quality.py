"""The data-quality marts the dashboard's quarantine panel reads, against plain-Python counts."""

from __future__ import annotations

import dbt_expected as expected
import pytest
from dbt_events import quarantined
from dbt_tables import table_rows

# The names and types the dashboard reads (dashboard/): a change here is a change there.
SCHEMAS = {
    "fct_quarantine_reasons": [
        ("ingested_on", "date"),
        ("reason", "string"),
        ("quarantined_events", "bigint"),
    ],
    "fct_ingest_daily": [
        ("ingested_on", "date"),
        ("validated_events", "bigint"),
        ("quarantined_events", "bigint"),
    ],
}


@pytest.mark.parametrize("mart", sorted(SCHEMAS))
def test_data_quality_marts_have_their_contract_in_the_curated_zone(
    spark, built, dbt_lake, mart
) -> None:
    table = spark.table(f"smartgrid.{mart}")
    assert [(f.name, f.dataType.simpleString()) for f in table.schema] == SCHEMAS[mart]
    location = spark.sql(f"describe detail smartgrid.{mart}").first()["location"]
    assert location.rstrip("/").endswith(f"{dbt_lake.curated}/{mart}")


def test_quarantine_reasons_count_each_event_once_per_reason(spark, built) -> None:
    got = {
        (r["ingested_on"], r["reason"]): r["quarantined_events"]
        for r in table_rows(spark, "fct_quarantine_reasons")
    }
    want = expected.quarantine_reasons(quarantined())
    assert got == want
    # an event with several reasons is under each; one listing a reason twice counts once
    assert sum(want.values()) == sum(len(set(e["reasons"])) for e in quarantined())


def test_ingest_daily_counts_validated_and_quarantined_events(spark, built) -> None:
    got = {r["ingested_on"]: r for r in table_rows(spark, "fct_ingest_daily")}
    want = expected.ingest_daily(built, quarantined())
    assert got.keys() == want.keys()
    for day, row in want.items():
        assert {k: got[day][k] for k in row} == row, day
    # a day with quarantined events only is kept, with no validated event
    assert any(row["validated_events"] == 0 for row in want.values())
