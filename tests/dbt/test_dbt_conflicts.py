"""Conflicting versions of one reading (same meter and time, different values) are decided by
var conflict_policy, never by their position in a landing file, and every conflict is reported
in fct_reading_conflicts (a forged 77,777 W resend of a real 240.8 W reading, in the same
micro-batch as the real one, once before it and once after it in the file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbt_events import DBT_VARS, INGEST_1, INGEST_2, STEP, T0, event, write_validated
from dbt_tables import table_rows

from smartgrid.lake import Lake
from transform import runner as dbt_runner

REAL, FORGED = 240.8, 77777.0
FORGED_K = 3
SELECT = "+fct_reading_conflicts +fct_meter_daily_energy"


def _one_batch() -> list[dict]:
    """MTR-FIRST: the forged line comes first in the file; MTR-LAST: it comes last. MTR-DUP: an
    exact duplicate (same values), which is no conflict."""
    events: list[dict] = []

    def add(meter, k, watts):
        events.append(event(meter, k, watts, ingest=INGEST_1, batch=0, offset=len(events)))

    add("MTR-FIRST", FORGED_K, FORGED)
    for k in range(6):
        for meter in ("MTR-FIRST", "MTR-LAST", "MTR-DUP"):
            add(meter, k, REAL)
    add("MTR-LAST", FORGED_K, FORGED)
    add("MTR-DUP", FORGED_K, REAL)
    return events


def _build(spark, lake: Lake, policy: str, *, full_refresh: bool) -> None:
    dbt_vars = {**DBT_VARS, "conflict_policy": policy}
    if full_refresh:
        dbt_runner.build(lake, dbt_vars=dbt_vars, spark=spark, command="seed")
    dbt_runner.build(
        lake,
        dbt_vars=dbt_vars,
        spark=spark,
        command="run",
        select=SELECT,
        full_refresh=full_refresh,
    )


def _watts(spark, table: str) -> dict[str, float]:
    at = (T0 + FORGED_K * STEP).replace(tzinfo=None)
    return {
        r["meter_id"]: r["real_power_watts"]
        for r in table_rows(spark, table)
        if r.get("reading_at", r.get("timestamp")).replace(tzinfo=None) == at
    }


@pytest.mark.parametrize("policy", ["latest", "first", "quarantine"])
def test_a_forged_resend_in_one_micro_batch_is_decided_by_policy_and_reported(
    spark, tmp_path: Path, policy: str
) -> None:
    lake = Lake.resolve(str(tmp_path / policy)).ensure()
    write_validated(spark, lake, _one_batch())
    _build(spark, lake, policy, full_refresh=True)

    conflicts = {r["meter_id"]: r for r in table_rows(spark, "fct_reading_conflicts")}
    assert set(conflicts) == {"MTR-FIRST", "MTR-LAST"}  # the exact duplicate is silent
    if policy == "latest":  # the data test warns (and does not fail the build)
        warned = dbt_runner.run_dbt(
            ["test", "--select", "warn_on_reading_conflicts"],
            lake,
            dbt_vars={**DBT_VARS, "conflict_policy": policy},
            spark=spark,
        )
        assert warned.success
        tests = [r for r in warned.result.results if r.node.resource_type == "test"]
        assert [(r.node.name, r.status, r.failures) for r in tests] == [
            ("warn_on_reading_conflicts", "warn", 2)
        ]
    for row in conflicts.values():
        assert row["versions"] == 2
        assert "77777.0 W" in row["version_values"] and "240.8 W" in row["version_values"]
        assert row["policy"] == policy
    clean = _watts(spark, "int_meter_readings__clean")
    curated = _watts(spark, "fct_meter_readings")
    # The file position decides nothing: both meters end the same way.
    assert clean["MTR-FIRST"] == clean["MTR-LAST"]
    assert curated.get("MTR-FIRST") == curated.get("MTR-LAST")
    assert curated["MTR-DUP"] == REAL
    if policy == "quarantine":
        assert "MTR-FIRST" not in curated and "MTR-LAST" not in curated  # held out of the marts
        assert {r["why"].split(":")[0] for r in conflicts.values()} == {"held"}
        assert all(r["winning_values"] is None for r in conflicts.values())
        daily = {r["meter_id"]: r for r in table_rows(spark, "fct_meter_daily_energy")}
        # the held reading's energy is not counted (its predecessor's interval still is)
        assert daily["MTR-FIRST"]["kwh"] < daily["MTR-DUP"]["kwh"]
        assert daily["MTR-FIRST"]["peak_watts"] == REAL
    else:
        # same sent_at (none) and same ingest: a tie, reported, chosen by a hash of the values
        assert {r["why"].split(":")[0] for r in conflicts.values()} == {"tie"}
        assert conflicts["MTR-FIRST"]["winning_values"] == conflicts["MTR-LAST"]["winning_values"]


@pytest.mark.parametrize(
    ("policy", "kept"), [("latest", FORGED), ("first", REAL), ("quarantine", None)]
)
def test_a_correction_in_a_later_run_is_decided_against_the_loaded_reading(
    spark, tmp_path: Path, policy: str, kept: float | None
) -> None:
    lake = Lake.resolve(str(tmp_path / policy)).ensure()
    write_validated(
        spark, lake, [event("MTR-C", k, REAL, ingest=INGEST_1, batch=0, offset=k) for k in range(6)]
    )
    _build(spark, lake, policy, full_refresh=True)
    assert table_rows(spark, "fct_reading_conflicts") == []
    correction = event(
        "MTR-C",
        FORGED_K,
        FORGED,
        sent_at="2025-03-04T02:00:00.000Z",
        ingest=INGEST_2,
        batch=1,
        offset=0,
    )
    write_validated(spark, lake, [correction])
    _build(spark, lake, policy, full_refresh=False)

    (conflict,) = table_rows(spark, "fct_reading_conflicts")
    assert conflict["versions"] == 2
    assert conflict["why"].split(":")[0] == {"quarantine": "held"}.get(policy, policy)
    assert _watts(spark, "int_meter_readings__clean")["MTR-C"] == (kept or FORGED)
    if kept is not None:
        assert _watts(spark, "fct_meter_readings")["MTR-C"] == kept
