"""Incremental runs: nothing new changes nothing, late and re-sent events correct what they touch,
an incremental run equals a full refresh, and a second lake gets its own tables. The small marts
merged whole (WHOLE_TABLE) keep their Delta table id, and write nothing when nothing changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dbt_expected as expected
import pytest
from dbt_events import (
    A_RESENT,
    DBT_VARS,
    INGEST_1,
    INGEST_2,
    LATE_A,
    SETTINGS,
    STEP,
    T0,
    batch_one,
    batch_two,
    event,
    quarantined,
    write_validated,
)
from dbt_tables import (
    INCREMENTAL,
    MARTS,
    TABLE_KEYS,
    WHOLE_TABLE,
    assert_marts_match,
    content_hash,
    delta_version,
    history_since,
    keyed_rows,
    merges_since,
    table_id,
    table_rows,
)

from smartgrid.lake import Lake
from transform import runner as dbt_runner


def test_second_run_without_new_data_changes_nothing(spark, built, dbt_lake) -> None:
    """No Delta version anywhere: the incremental tables merge nothing, and the whole-table
    marts, found equal to their model, are not written at all (a no-op merge would commit)."""
    tracked = INCREMENTAL + WHOLE_TABLE
    versions = {t: delta_version(spark, t) for t in tracked}
    ids = {t: table_id(spark, t) for t in WHOLE_TABLE}
    hashes = {t: content_hash(spark, t) for t in MARTS + WHOLE_TABLE}
    dbt_runner.build(dbt_lake, dbt_vars=DBT_VARS, spark=spark, command="run")
    assert {t: delta_version(spark, t) for t in tracked} == versions
    assert {t: table_id(spark, t) for t in WHOLE_TABLE} == ids
    assert {t: content_hash(spark, t) for t in MARTS + WHOLE_TABLE} == hashes


def test_late_events_and_duplicates_correct_what_they_touch(spark, built, dbt_lake) -> None:
    before = expected.clean(built, SETTINGS)
    version = delta_version(spark, "int_meter_readings__clean")
    ids = {t: table_id(spark, t) for t in WHOLE_TABLE}
    whole_versions = {t: delta_version(spark, t) for t in WHOLE_TABLE}
    events = built + batch_two()
    write_validated(spark, dbt_lake, batch_two())
    dbt_runner.build(dbt_lake, dbt_vars=DBT_VARS, spark=spark, command="run")
    assert_marts_match(spark, events)
    got_ingest = {r["ingested_on"]: r for r in table_rows(spark, "fct_ingest_daily")}
    want_ingest = expected.ingest_daily(events, quarantined())
    assert got_ingest.keys() == want_ingest.keys()
    for day, row in want_ingest.items():
        assert {k: got_ingest[day][k] for k in row} == row, day

    # The whole-table marts were rebuilt in place: same Delta table, one merge for those whose
    # rows changed, nothing for the one batch two leaves as it was (no new quarantined event).
    assert {t: table_id(spark, t) for t in WHOLE_TABLE} == ids
    commits = {t: history_since(spark, t, whole_versions[t]) for t in WHOLE_TABLE}
    assert {t: [c["operation"] for c in cs] for t, cs in commits.items()} == {
        "dim_meters": ["MERGE"],
        "fct_fleet_daily_target": ["MERGE"],
        "fct_meter_daypart_energy": ["MERGE"],
        "fct_ingest_daily": ["MERGE"],
        "fct_quarantine_reasons": [],
    }
    # Only the changed rows are rewritten: the ingest day of both batches gains batch two.
    metrics = commits["fct_ingest_daily"][0]["operationMetrics"]
    assert (
        metrics["numTargetRowsUpdated"],
        metrics["numTargetRowsInserted"],
        metrics["numTargetRowsDeleted"],
    ) == ("1", "0", "0")

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


def test_incremental_run_after_late_data_equals_a_full_refresh(spark, tmp_path) -> None:
    """Late and re-sent readings, a new day, a late reading in a long gap, a new meter and meters
    back after an outage, merged incrementally, leave every clean and curated table as a full
    refresh over the same events builds it. The reporting time zone is not UTC, so local dates
    (the curated partitions) differ from the UTC partitions of the clean table. The merges into
    the two partitioned tables carry the run's partition bound, and the data-quality marts recount
    only the ingest days from the newest one they held (an event ingested two days before the
    others keeps its day's counts, which the windowed merge neither rereads nor deletes)."""
    lake = Lake.resolve(str(tmp_path / "late")).ensure()
    dbt_vars = {**DBT_VARS, "reporting_time_zone": "Europe/Paris"}
    # More meters whose context is not in the hour before their first change: a late reading in
    # a ten-hour gap; a new meter; and two meters back after an outage longer than the maximum
    # gap, whose newest loaded reading (nominal interval) must now be capped at the maximum gap:
    # MTR-BACK's lies within the lookback window, MTR-AWAY's before it.
    first = (
        [
            event("MTR-GAP", k, 900, volts=220.0 + k % 7, ingest=INGEST_1, batch=0, offset=k)
            for k in [*range(200), *range(260, 300)]
        ]
        + [
            event(meter, k, 800, volts=225.0 + k % 5, ingest=INGEST_1, batch=0, offset=1000 + k)
            for meter, ks in (("MTR-BACK", range(200, 260)), ("MTR-AWAY", range(20, 50)))
            for k in ks
        ]
        + [event("MTR-EARLY", 5, 600, ingest=dt.datetime(2025, 3, 2, 6), batch=0, offset=2000)]
    )
    second = [
        event("MTR-GAP", 230, 900, volts=241.0, ingest=INGEST_2, batch=1, offset=900),
        event("MTR-NEW", 430, 700, volts=236.0, ingest=INGEST_2, batch=1, offset=901),
        event("MTR-NEW", 431, 700, volts=238.0, ingest=INGEST_2, batch=1, offset=902),
        event("MTR-BACK", 300, 800, volts=244.0, ingest=INGEST_2, batch=1, offset=903),
        event("MTR-AWAY", 420, 800, volts=246.0, ingest=INGEST_2, batch=1, offset=904),
    ]
    write_validated(spark, lake, batch_one() + first)
    # A meter leaves the registry between the runs: its dim_meters row must go (the
    # whole-table merge's `when not matched by source then delete`).
    registry = Path(lake.reference, "meters.csv")
    header = "meter_id,profile,has_solar,nominal_voltage,reports_energy\n"
    registry.write_text(header + "MTR-GONE,household,false,230,false\n", encoding="utf-8")
    dbt_runner.build(lake, dbt_vars=dbt_vars, spark=spark, command="seed")
    dbt_runner.build(lake, dbt_vars=dbt_vars, spark=spark, command="run", full_refresh=True)
    assert "MTR-GONE" in {r["meter_id"] for r in table_rows(spark, "dim_meters")}
    versions = {t: delta_version(spark, t) for t in INCREMENTAL + WHOLE_TABLE}
    ids = {t: table_id(spark, t) for t in WHOLE_TABLE}
    write_validated(spark, lake, batch_two() + second)
    registry.write_text(header, encoding="utf-8")
    dbt_runner.build(lake, dbt_vars=dbt_vars, spark=spark, command="run")
    merged = {t: merges_since(spark, t, versions[t]) for t in INCREMENTAL}
    assert all(len(merges) == 1 for merges in merged.values()), merged  # merged, not rebuilt
    assert {t: table_id(spark, t) for t in WHOLE_TABLE} == ids  # in place
    for table in WHOLE_TABLE:  # one merge, or nothing written when nothing changed
        operations = [c["operation"] for c in history_since(spark, table, versions[table])]
        assert operations in ([], ["MERGE"]), (table, operations)
    # The ingest-day window: the merge's source holds the days from the newest one the first run
    # counted, not every ingest day.
    first_days = {e["ingest_time"].date() for e in batch_one() + first + quarantined()}
    all_days = first_days | {e["ingest_time"].date() for e in batch_two() + second}
    window = {day for day in all_days if day >= max(first_days)}
    assert window < all_days
    (ingest_merge,) = merges_since(spark, "fct_ingest_daily", versions["fct_ingest_daily"])
    assert int(ingest_merge["operationMetrics"]["numSourceRows"]) == len(window)
    assert ingest_merge["operationMetrics"]["numTargetRowsDeleted"] == "0"
    (dim_merge,) = merges_since(spark, "dim_meters", versions["dim_meters"])
    assert dim_merge["operationMetrics"]["numTargetRowsDeleted"] == "1"
    assert "MTR-GONE" not in {r["meter_id"] for r in table_rows(spark, "dim_meters")}
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
