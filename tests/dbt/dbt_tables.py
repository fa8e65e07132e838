"""Reading what dbt built (rows, Delta versions and merges, content hashes, keys), and checking
it against the rules restated in Python (dbt_expected.py)."""

from __future__ import annotations

import hashlib

import dbt_expected as expected
import pytest
from dbt_events import SETTINGS
from spark_rows import utc_rows

CONTRACT_COLUMNS = [
    "timestamp",
    "meter_id",
    "energy_kwh",
    "real_power_watts",
    "voltage_v",
    "power_factor",
    "apparent_power_va",
    "current_a",
    "high_demand_flag",
    "anomaly_flag",
    "anomaly_reason",
    "time_of_day",
    "local_date",
    "rolling_avg_voltage_v",
]


def table_rows(spark, table: str) -> list[dict]:
    return utc_rows(spark.table(f"smartgrid.{table}"))


def delta_version(spark, table: str) -> int:
    return spark.sql(f"describe history smartgrid.{table}").agg({"version": "max"}).first()[0]


def merges_since(spark, table: str, version: int) -> list[dict]:
    return [h for h in history_since(spark, table, version) if h["operation"] == "MERGE"]


def history_since(spark, table: str, version: int) -> list[dict]:
    """The Delta commits of ``table`` after ``version``, oldest first."""
    history = spark.sql(f"describe history smartgrid.{table}").collect()
    return sorted(
        (h.asDict() for h in history if h["version"] > version), key=lambda h: h["version"]
    )


def table_id(spark, table: str) -> str:
    """Delta's table id: a table re-created (`create or replace`) gets a new one."""
    return spark.sql(f"describe detail smartgrid.{table}").first()["id"]


def content_hash(spark, table: str) -> str:
    rows = sorted(repr(sorted(r.items())) for r in table_rows(spark, table))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


MARTS = (
    "fct_meter_readings",
    "fct_meter_daily_energy",
    "fct_fleet_daily_target",
    "fct_fleet_power_trend",
    "fct_meter_daypart_energy",
    "dim_meters",
)
INCREMENTAL = (
    "int_meter_readings__clean",
    "fct_meter_readings",
    "fct_meter_daily_energy",
    "fct_meter_daypart_daily_energy",
    "fct_fleet_power_trend",
)
# The small marts merged whole into their table each run (meta merge_whole_table,
# macros/incremental/whole_table_merge.sql): rebuilt in place, never re-created.
WHOLE_TABLE = (
    "dim_meters",
    "fct_fleet_daily_target",
    "fct_meter_daypart_energy",
    "fct_ingest_daily",
    "fct_quarantine_reasons",
)


# Each table's key, for comparing two builds row by row.
TABLE_KEYS = {
    "int_meter_readings__clean": ("meter_id", "reading_at"),
    "fct_meter_readings": ("meter_id", "timestamp"),
    "fct_meter_daily_energy": ("meter_id", "local_date"),
    "fct_meter_daypart_daily_energy": ("meter_id", "local_date", "time_of_day"),
    "fct_fleet_daily_target": ("local_date",),
    "fct_fleet_power_trend": ("bucket_start",),
    "fct_meter_daypart_energy": ("meter_id", "time_of_day"),
    "dim_meters": ("meter_id",),
    "fct_ingest_daily": ("ingested_on",),
    "fct_quarantine_reasons": ("ingested_on", "reason"),
}


def keyed_rows(spark, table: str) -> dict[tuple, dict]:
    rows = table_rows(spark, table)
    key = TABLE_KEYS[table]
    # when dbt wrote the row, not what it holds
    return {
        tuple(r[k] for k in key): {c: v for c, v in r.items() if c != "updated_at"} for r in rows
    }


def assert_marts_match(spark, events: list[dict]) -> None:
    clean = expected.clean(events, SETTINGS)
    readings = expected.readings(clean, SETTINGS, {"MTR-A": 230.0, "MTR-B": 230.0})
    daily = expected.daily_energy(readings, SETTINGS)

    got_clean = {
        (r["meter_id"], r["reading_at"]): r for r in table_rows(spark, "int_meter_readings__clean")
    }
    assert got_clean.keys() == clean.keys()
    for key, row in clean.items():
        assert got_clean[key]["energy_kwh"] == pytest.approx(row["kwh"]), key
        assert got_clean[key]["real_power_watts"] == row["real_power_watts"], key

    got = {(r["meter_id"], r["timestamp"]): r for r in table_rows(spark, "fct_meter_readings")}
    assert got.keys() == readings.keys()
    for key, row in readings.items():
        assert list(got[key]) == CONTRACT_COLUMNS
        for column, value in row.items():
            assert got[key][column] == (
                pytest.approx(value) if isinstance(value, float) else value
            ), (key, column)

    got_daily = {
        (r["meter_id"], r["local_date"]): r for r in table_rows(spark, "fct_meter_daily_energy")
    }
    assert got_daily.keys() == daily.keys()
    for key, row in daily.items():
        for column, value in row.items():
            assert got_daily[key][column] == pytest.approx(value), (key, column)

    target = expected.fleet_target(daily, SETTINGS)
    got_target = {r["local_date"]: r for r in table_rows(spark, "fct_fleet_daily_target")}
    assert got_target.keys() == target.keys()
    for day, row in target.items():
        for column, value in row.items():
            assert got_target[day][column] == pytest.approx(value), (day, column)

    trend = expected.power_trend(readings, SETTINGS)
    got_trend = {r["bucket_start"]: r for r in table_rows(spark, "fct_fleet_power_trend")}
    assert got_trend.keys() == trend.keys()
    for bucket, row in trend.items():
        assert got_trend[bucket]["avg_watts"] == pytest.approx(row["avg_watts"]), bucket
        assert got_trend[bucket]["reading_count"] == row["reading_count"], bucket

    dayparts = expected.daypart_energy(readings)
    got_dayparts = {
        (r["meter_id"], r["time_of_day"]): r for r in table_rows(spark, "fct_meter_daypart_energy")
    }
    assert got_dayparts.keys() == dayparts.keys()
    for key, row in dayparts.items():
        assert got_dayparts[key]["kwh"] == pytest.approx(row["kwh"]), key
        assert got_dayparts[key]["reading_count"] == row["reading_count"], key

    dim = {r["meter_id"]: r for r in table_rows(spark, "dim_meters")}
    assert dim["MTR-A"]["profile"] == "household" and dim["MTR-A"]["has_solar"] is True
    assert dim["MTR-B"]["profile"] == "small_business"
    assert dim["@C-3"]["profile"] is None  # not in the registry
    assert dim["MTR-UNSEEN"]["reading_count"] == 0  # in the registry, no readings
    for meter in ("MTR-A", "MTR-B", "@C-3"):
        times = [k[1] for k in clean if k[0] == meter]
        assert dim[meter]["first_seen_at"] == min(times)
        assert dim[meter]["last_seen_at"] == max(times)
        assert dim[meter]["reading_count"] == len(times)
