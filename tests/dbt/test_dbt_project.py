"""The dbt project end to end on the session's Spark: validated Delta events -> clean -> marts -> CSV.

dbt runs in-process (dbt-spark's session method reuses the session fixture's SparkSession). The
input is a small validated Delta table written directly (duplicates, a gap, late events, a
reported energy, power-quality anomalies); every result is checked against dbt_expected.py,
which restates the rules in plain Python.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from smartgrid.lake import Lake
from transform import runner as dbt_runner

sys.path.insert(0, str(Path(__file__).parent))
import dbt_expected as expected
from spark_rows import utc_rows

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2025, 3, 1)
STEP = dt.timedelta(minutes=10)
INGEST_1 = dt.datetime(2025, 3, 4, 0, 5)
INGEST_2 = dt.datetime(2025, 3, 4, 2, 5)
SETTINGS = expected.Settings()
DBT_VARS = {
    "nominal_interval_seconds": 600,
    "max_gap_seconds": 1800,
    "rolling_window_days": 2,
    "lookback_hours": 48,
    "trend_bucket_minutes": 15,
}
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
LATE_A = (400, 401)  # A's readings held back from batch 1: late, out of order in batch 2
A_RESENT = 300  # re-sent in batch 2 with another power: the later ingest wins
B_OUTAGE = range(100, 118)  # three hours without readings: the interval before is capped


def _event(meter, k, watts, *, volts=230.0, pf=0.95, energy=None, ingest, batch, offset):
    return {
        "event_id": f"{meter}-{k}",
        "timestamp": T0 + k * STEP,
        "meter_id": meter,
        "real_power_watts": float(watts),
        "voltage": float(volts),
        "power_factor": float(pf),
        "energy_kwh": energy,
        "current_a": None,
        "schema_version": 1,
        "extra_fields": None,
        "source_name": f"landing/batch-{batch}.jsonl",
        "source_partition": None,
        "source_offset": offset,
        "source_timestamp": ingest,
        "ingest_time": ingest,
        "batch_id": batch,
    }


def batch_one() -> list[dict]:
    events: list[dict] = []

    def add(*args, **kwargs):
        events.append(_event(*args, ingest=INGEST_1, batch=0, offset=len(events), **kwargs))

    for k in range(432):  # three days every 10 minutes
        if k not in LATE_A:
            add("MTR-A", k, 500 + (k % 6) * 100)
        if k not in B_OUTAGE:
            add("MTR-B", k, 800 + (k % 4) * 50, energy=0.2 if k % 50 == 0 else None)
    for k in range(144, 288):  # a meter with power-quality problems, day two only
        volts, pf = [(260.0, 0.95), (200.0, 0.95), (230.0, 0.8), (231.0, 0.97)][k % 4]
        add("@C-3", k, 6000 if k % 5 == 0 else 1200, volts=volts, pf=pf)
    add("MTR-A", 10, 700)  # a duplicate in the same batch, later offset: it wins
    return events


def batch_two() -> list[dict]:
    events: list[dict] = []

    def add(*args, **kwargs):
        events.append(_event(*args, ingest=INGEST_2, batch=1, offset=len(events), **kwargs))

    for k in LATE_A:
        add("MTR-A", k, 500 + (k % 6) * 100)
    add("MTR-A", A_RESENT, 4321)
    for k in range(432, 444):  # two new hours on a new day
        add("MTR-A", k, 500 + (k % 6) * 100)
        add("MTR-B", k, 800 + (k % 4) * 50)
    return events


def write_validated(spark, lake: Lake, events: list[dict]) -> None:
    from ingest.tables import VALIDATED_SCHEMA

    rows = [{**e, "timestamp": _utc(e["timestamp"])} for e in events]
    for row in rows:
        row["source_timestamp"] = _utc(row["source_timestamp"])
        row["ingest_time"] = _utc(row["ingest_time"])
    spark.createDataFrame(rows, VALIDATED_SCHEMA).write.format("delta").mode("append").save(
        lake.validated
    )


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc)


def table_rows(spark, table: str) -> list[dict]:
    return utc_rows(spark.table(f"smartgrid.{table}"))


def delta_version(spark, table: str) -> int:
    return spark.sql(f"describe history smartgrid.{table}").agg({"version": "max"}).first()[0]


def merges_since(spark, table: str, version: int) -> list[dict]:
    history = spark.sql(f"describe history smartgrid.{table}").collect()
    return [h.asDict() for h in history if h["version"] > version and h["operation"] == "MERGE"]


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


@pytest.fixture(scope="module")
def dbt_lake(spark, tmp_path_factory) -> Lake:
    """A lake of its own for the dbt tests (the metastore stays the session's)."""
    lake = Lake.resolve(str(tmp_path_factory.mktemp("dbt_lake"))).ensure()
    Path(lake.reference, "meters.csv").write_text(
        "meter_id,profile,has_solar,nominal_voltage,reports_energy\n"
        "MTR-A,household,true,230,false\n"
        "MTR-B,small_business,false,230,true\n"
        "MTR-UNSEEN,household,false,230,false\n",
        encoding="utf-8",
    )
    return lake


@pytest.fixture(scope="module")
def built(spark, dbt_lake: Lake) -> list[dict]:
    """Batch one ingested, then a full `dbt build` (models, data tests and unit tests)."""
    events = batch_one()
    write_validated(spark, dbt_lake, events)
    dbt_runner.build(dbt_lake, dbt_vars=DBT_VARS, spark=spark, full_refresh=True)
    return events


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


def test_full_build_matches_independent_computation(spark, built) -> None:
    assert_marts_match(spark, built)


def test_second_run_without_new_data_changes_nothing(spark, built, dbt_lake) -> None:
    incremental = INCREMENTAL
    versions = {t: delta_version(spark, t) for t in incremental}
    hashes = {t: content_hash(spark, t) for t in MARTS}
    dbt_runner.build(dbt_lake, dbt_vars=DBT_VARS, spark=spark, command="run")
    assert {t: delta_version(spark, t) for t in incremental} == versions
    assert {t: content_hash(spark, t) for t in MARTS} == hashes


def test_late_events_and_duplicates_correct_what_they_touch(spark, built, dbt_lake) -> None:
    before = expected.clean(built, SETTINGS)
    version = delta_version(spark, "int_meter_readings__clean")
    events = built + batch_two()
    write_validated(spark, dbt_lake, batch_two())
    dbt_runner.build(dbt_lake, dbt_vars=DBT_VARS, spark=spark, command="run")
    assert_marts_match(spark, events)

    # Incremental, not a rebuild: the merge wrote only the new keys and the changed rows (the
    # re-sent reading and the late readings' predecessor, whose interval now ends earlier).
    after = expected.clean(events, SETTINGS)
    fields = ("real_power_watts", "kwh", "interval_seconds", "ingest_time")
    changed = [k for k in before if any(before[k][f] != after[k][f] for f in fields)]
    assert sorted(changed) == sorted(
        [("MTR-A", T0 + A_RESENT * STEP), ("MTR-A", T0 + (LATE_A[0] - 1) * STEP)]
    )
    (merge,) = merges_since(spark, "int_meter_readings__clean", version)
    metrics = merge["operationMetrics"]
    assert int(metrics["numTargetRowsInserted"]) == len(after.keys() - before.keys())
    assert int(metrics["numTargetRowsUpdated"]) == len(changed)


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
    declared["raw"] = [rest[0], *lineage]
    declared["validated"] = [*rest[1:11], *lineage]
    declared["quarantine"] = [*rest[11:15], *lineage]
    for name, schema in (
        ("raw", RAW_SCHEMA),
        ("validated", VALIDATED_SCHEMA),
        ("quarantine", QUARANTINE_SCHEMA),
    ):
        assert declared[name] == [(f.name, f.dataType.simpleString()) for f in schema], name


def test_locked_metastore_is_one_clear_line(spark, session_lake: Lake) -> None:
    """This test session's JVM holds the session lake's Derby metastore: a second process
    asking for it gets one line and a non-zero exit, before any Spark starts."""
    spark.sql("show databases").collect()  # Derby boots lazily; make sure it is held
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build", "--lake", session_lake.root],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: the Derby metastore at {session_lake.metastore} is in use by another process "
        "(Derby admits one at a time: another `smartgrid build`, `dbt` or a notebook on this "
        "lake); stop it and retry, or use another --lake"
    ]


def test_build_refuses_bad_vars_before_starting_anything(capsys) -> None:
    from pipeline.cli import main

    assert main(["build", "--vars", "{not json"]) == 2
    assert capsys.readouterr().err.startswith("error: --vars must be a JSON object")


def test_sqlfluff_lint_models() -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "sqlfluff"), "lint", "models"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_second_lake_in_the_same_session_gets_its_own_tables(
    spark, built, dbt_lake, tmp_path
) -> None:
    """One metastore, two lakes (as in the tests, or a moved lake): the incremental model is
    re-created at the new lake's location instead of merging into the first lake's table."""
    other = Lake.resolve(str(tmp_path / "other")).ensure()
    write_validated(spark, other, [e for e in batch_one() if e["meter_id"] == "@C-3"])
    dbt_runner.build(
        other, select="int_meter_readings__clean", dbt_vars=DBT_VARS, spark=spark, command="run"
    )
    location = spark.sql("describe detail smartgrid.int_meter_readings__clean").first()["location"]
    assert location.rstrip("/").endswith(f"{other.clean}/int_meter_readings__clean")
    assert {r["meter_id"] for r in table_rows(spark, "int_meter_readings__clean")} == {"@C-3"}
    first = spark.read.format("delta").load(f"{dbt_lake.clean}/int_meter_readings__clean")
    assert first.select("meter_id").distinct().count() == 3  # the first lake's table is intact


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
}


def keyed_rows(spark, table: str) -> dict[tuple, dict]:
    rows = table_rows(spark, table)
    key = TABLE_KEYS[table]
    # when dbt wrote the row, not what it holds
    return {
        tuple(r[k] for k in key): {c: v for c, v in r.items() if c != "updated_at"} for r in rows
    }


def test_incremental_run_after_late_data_equals_a_full_refresh(spark, tmp_path) -> None:
    """Late and re-sent readings, a new day, a late reading in a long gap, a new meter and meters
    back after an outage, merged incrementally, leave every clean and curated table as a full
    refresh over the same events builds it. The reporting time zone is not UTC, so local dates
    (the curated partitions) differ from the UTC partitions of the clean table. The merges into
    the two partitioned tables carry the run's partition bound."""
    lake = Lake.resolve(str(tmp_path / "late")).ensure()
    dbt_vars = {**DBT_VARS, "reporting_time_zone": "Europe/Paris"}
    # More meters whose context is not in the hour before their first change: a late reading in
    # a ten-hour gap; a new meter; and two meters back after an outage longer than the maximum
    # gap, whose newest loaded reading (nominal interval) must now be capped at the maximum gap:
    # MTR-BACK's lies within the lookback window, MTR-AWAY's before it.
    first = [
        _event("MTR-GAP", k, 900, volts=220.0 + k % 7, ingest=INGEST_1, batch=0, offset=k)
        for k in [*range(200), *range(260, 300)]
    ] + [
        _event(meter, k, 800, volts=225.0 + k % 5, ingest=INGEST_1, batch=0, offset=1000 + k)
        for meter, ks in (("MTR-BACK", range(200, 260)), ("MTR-AWAY", range(20, 50)))
        for k in ks
    ]
    second = [
        _event("MTR-GAP", 230, 900, volts=241.0, ingest=INGEST_2, batch=1, offset=900),
        _event("MTR-NEW", 430, 700, volts=236.0, ingest=INGEST_2, batch=1, offset=901),
        _event("MTR-NEW", 431, 700, volts=238.0, ingest=INGEST_2, batch=1, offset=902),
        _event("MTR-BACK", 300, 800, volts=244.0, ingest=INGEST_2, batch=1, offset=903),
        _event("MTR-AWAY", 420, 800, volts=246.0, ingest=INGEST_2, batch=1, offset=904),
    ]
    write_validated(spark, lake, batch_one() + first)
    dbt_runner.build(lake, dbt_vars=dbt_vars, spark=spark, command="seed")
    dbt_runner.build(lake, dbt_vars=dbt_vars, spark=spark, command="run", full_refresh=True)
    versions = {t: delta_version(spark, t) for t in INCREMENTAL}
    write_validated(spark, lake, batch_two() + second)
    dbt_runner.build(lake, dbt_vars=dbt_vars, spark=spark, command="run")
    merged = {t: merges_since(spark, t, versions[t]) for t in INCREMENTAL}
    assert all(len(merges) == 1 for merges in merged.values()), merged  # merged, not rebuilt
    for table, column in (
        ("int_meter_readings__clean", "reading_date"),
        ("fct_meter_readings", "local_date"),
    ):
        predicate = merged[table][0]["operationParameters"]["predicate"]
        assert column in predicate, predicate
    incremental = {t: keyed_rows(spark, t) for t in TABLE_KEYS}

    dbt_runner.build(lake, dbt_vars=dbt_vars, spark=spark, command="run", full_refresh=True)
    for table in TABLE_KEYS:
        full = keyed_rows(spark, table)
        assert incremental[table].keys() == full.keys(), table
        for key, row in full.items():
            got = incremental[table][key]
            assert got.keys() == row.keys(), (table, key)
            for column, value in row.items():
                expected_value = pytest.approx(value) if isinstance(value, float) else value
                assert got[column] == expected_value, (table, key, column)

    # The marts record the zone they were built in: another one needs a full refresh.
    result = dbt_runner.run_dbt(
        ["run", "--select", "fct_meter_readings"],
        lake,
        dbt_vars={**DBT_VARS, "reporting_time_zone": "UTC"},
        spark=spark,
    )
    assert not result.success
    messages = " ".join(str(r.message) for r in result.result.results)
    assert "built with reporting_time_zone Europe/Paris" in messages, messages
    assert "--full-refresh" in messages, messages
