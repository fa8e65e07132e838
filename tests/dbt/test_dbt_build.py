"""A full build from batch one matches the rules restated in Python; the CSV export for Power BI."""

from __future__ import annotations

import csv
from pathlib import Path

from dbt_tables import CONTRACT_COLUMNS, assert_marts_match

from transform import runner as dbt_runner


def test_full_build_matches_independent_computation(spark, built) -> None:
    assert_marts_match(spark, built)


def test_csv_export_for_power_bi(spark, built, dbt_lake) -> None:
    path = dbt_runner.export_csv(dbt_lake, spark=spark)
    assert path == Path(dbt_lake.curated) / "smart_grid_curated.csv"
    assert not list(Path(dbt_lake.curated).glob(".*.staging"))  # staging renamed away
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == CONTRACT_COLUMNS
    body = rows[1:]
    assert len(body) == spark.table("smartgrid.fct_meter_readings").count()
    stamps = [r[0] for r in body]
    assert stamps == sorted(stamps)  # stable order: timestamp, meter_id
    assert all(len(s) == 24 and s.endswith("Z") and s[10] == "T" for s in stamps)
    meters = {r[1] for r in body}
    assert "'@C-3" in meters and "@C-3" not in meters  # formula injection neutralised
    normal = next(r for r in body if r[9] == "Normal")
    assert normal[10] == ""  # no reason when normal
