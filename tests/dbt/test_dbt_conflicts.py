"""Conflicting versions of one reading (same meter and time, different values) are decided by
var conflict_policy, never by their position in a landing file, and every conflict is reported
in fct_reading_conflicts (a forged 77,777 W resend of a real 240.8 W reading, in the same
micro-batch as the real one, once before it and once after it in the file).

One lake for the module, built once in full and then once incrementally per policy (the
`conflict_policy` var switched between runs): each policy gets meters of its own, so its step
neither sees nor changes another's. Each step brings, in one new micro-batch, the forged resend
for two new meters (forged line first, forged line last), an exact duplicate for a third, and a
correction of a reading the full build already loaded (the later-run case). The tables are read
after each step; the tests check those snapshots.
"""

from __future__ import annotations

import datetime as dt

import pytest
from dbt_events import DBT_VARS, INGEST_1, INGEST_2, STEP, T0, event, write_validated
from dbt_tables import table_rows

from smartgrid.lake import Lake
from transform import runner as dbt_runner

REAL, FORGED = 240.8, 77777.0
FORGED_K = 3
READINGS = 6  # k = 0 .. 5, every 10 minutes from T0 (one UTC day, one daypart)
INTERVAL_S = STEP.total_seconds()
POLICIES = ("latest", "first", "quarantine")
SELECT = "+fct_reading_conflicts +fct_meter_daily_energy +fct_meter_daypart_daily_energy"


def _volts(k: int) -> float:
    """The corrected meters' voltage varies, so that a rolling average tells which readings it
    averaged."""
    return 226.0 + 2 * k


def _meter(kind: str, policy: str) -> str:
    return f"MTR-{kind}-{policy.upper()}"


def _loaded_batch() -> list[dict]:
    """What the full build loads: per policy, MTR-C-<policy>, six readings of 240.8 W, one of
    which a later step corrects; MTR-SOLO-QUARANTINE, a single reading on its day, which the
    quarantine step holds (its day is left without readings)."""
    events: list[dict] = []

    def add(meter, k, watts, **kwargs):
        events.append(
            event(meter, k, watts, ingest=INGEST_1, batch=0, offset=len(events), **kwargs)
        )

    for policy in POLICIES:
        for k in range(READINGS):
            add(_meter("C", policy), k, REAL, volts=_volts(k))
    add(_meter("SOLO", "quarantine"), 0, REAL)
    return events


def _step_batch(policy: str, step: int) -> list[dict]:
    """One micro-batch, ingested after everything before it: the forged resend for the policy's
    MTR-FIRST (forged line first in the file) and MTR-LAST (last), an exact duplicate for its
    MTR-DUP (no conflict), and a correction of the loaded reading k=3 of its MTR-C, sent later
    (sent_at) with other values; the quarantine step also corrects MTR-SOLO's only reading."""
    ingest = INGEST_2 + dt.timedelta(hours=step)
    sent_at = (ingest - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    first, last, dup = (_meter(kind, policy) for kind in ("FIRST", "LAST", "DUP"))
    events: list[dict] = []

    def add(meter, k, watts, **kwargs):
        events.append(
            event(meter, k, watts, ingest=ingest, batch=step + 1, offset=len(events), **kwargs)
        )

    add(first, FORGED_K, FORGED)
    for k in range(READINGS):
        for meter in (first, last, dup):
            add(meter, k, REAL)
    add(last, FORGED_K, FORGED)
    add(dup, FORGED_K, REAL)
    add(_meter("C", policy), FORGED_K, FORGED, volts=250.0, sent_at=sent_at)
    if policy == "quarantine":
        add(_meter("SOLO", policy), 0, FORGED, sent_at=sent_at)
    return events


def _snapshot(spark) -> dict[str, list[dict]]:
    tables = (
        "fct_reading_conflicts",
        "int_meter_readings__clean",
        "fct_meter_readings",
        "fct_meter_daily_energy",
        "fct_meter_daypart_daily_energy",
    )
    return {table: table_rows(spark, table) for table in tables}


def _dbt(lake: Lake, spark, policy: str, *args: str):
    """One dbt invocation under ``policy``; a build runs only the tests named in ``--select``."""
    dbt_vars = {**DBT_VARS, "conflict_policy": policy}
    command = list(args)
    if command[0] == "build":
        command += ["--indirect-selection", "empty", "--exclude-resource-type", "unit_test"]
    result = dbt_runner.run_dbt(command, lake, dbt_vars=dbt_vars, spark=spark)
    assert result.success, dbt_runner.failure(result)
    return result


@pytest.fixture(scope="module")
def steps(spark, tmp_path_factory) -> dict[str, dict]:
    """The full build ('loaded'), then one incremental run per policy (keyed by the policy);
    the latest step also runs the warning test (its dbt result: 'warned'). Four dbt
    invocations: the seeds go with the full build, the warning test with the latest step."""
    lake = Lake.resolve(str(tmp_path_factory.mktemp("conflicts"))).ensure()
    write_validated(spark, lake, _loaded_batch())
    _dbt(lake, spark, POLICIES[0], "build", "--select", SELECT, "--full-refresh")
    snapshots: dict[str, dict] = {"loaded": _snapshot(spark)}
    for step, policy in enumerate(POLICIES):
        write_validated(spark, lake, _step_batch(policy, step))
        if policy == "latest":  # the data test warns (and does not fail the build)
            snapshots["warned"] = _dbt(
                lake,
                spark,
                policy,
                "build",
                "--select",
                f"{SELECT} warn_on_reading_conflicts",
                "--exclude-resource-type",
                "seed",
            )
        else:
            _dbt(lake, spark, policy, "run", "--select", SELECT)
        snapshots[policy] = _snapshot(spark)
    return snapshots


def _at(k: int) -> dt.datetime:
    return T0 + k * STEP


def _naive(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=None)


def _watts(rows: list[dict], k: int = FORGED_K) -> dict[str, float]:
    return {
        r["meter_id"]: r["real_power_watts"]
        for r in rows
        if _naive(r.get("reading_at", r.get("timestamp"))) == _at(k)
    }


def _of(rows: list[dict], meter: str) -> list[dict]:
    return [r for r in rows if r["meter_id"] == meter]


def _expected_kwh(watts: list[float]) -> float:
    """Integrated energy of a meter's readings 10 minutes apart: each reading's power over the
    interval to the next one (a held reading still ends its predecessor's interval), the newest
    over the nominal interval (600 s)."""
    return sum(w * INTERVAL_S / 3_600_000.0 for w in watts)


def test_the_full_build_loads_the_readings_the_later_runs_correct(steps) -> None:
    loaded = steps["loaded"]
    assert loaded["fct_reading_conflicts"] == []
    curated = _watts(loaded["fct_meter_readings"])
    assert {curated[_meter("C", policy)] for policy in POLICIES} == {REAL}
    assert _watts(loaded["fct_meter_readings"], 0)[_meter("SOLO", "quarantine")] == REAL


@pytest.mark.parametrize("policy", POLICIES)
def test_a_forged_resend_in_one_micro_batch_is_decided_by_policy_and_reported(
    steps, policy: str
) -> None:
    tables = steps[policy]
    first, last, dup = (_meter(kind, policy) for kind in ("FIRST", "LAST", "DUP"))
    conflicts = {
        r["meter_id"]: r
        for r in tables["fct_reading_conflicts"]
        if r["meter_id"] in (first, last, dup)
    }
    assert set(conflicts) == {first, last}  # the exact duplicate is silent
    for row in conflicts.values():
        assert row["versions"] == 2
        assert "77777.0 W" in row["version_values"] and "240.8 W" in row["version_values"]
        assert row["policy"] == policy
    clean = _watts(tables["int_meter_readings__clean"])
    curated = _watts(tables["fct_meter_readings"])
    # The file position decides nothing: both meters end the same way.
    assert clean[first] == clean[last]
    assert curated.get(first) == curated.get(last)
    assert curated[dup] == REAL
    if policy == "quarantine":
        assert first not in curated and last not in curated  # held out of the marts
        assert {r["why"].split(":")[0] for r in conflicts.values()} == {"held"}
        assert all(r["winning_values"] is None for r in conflicts.values())
        daily = {r["meter_id"]: r for r in tables["fct_meter_daily_energy"]}
        # the held reading's energy is not counted (its predecessor's interval still is)
        assert daily[first]["kwh"] < daily[dup]["kwh"]
        assert daily[first]["peak_watts"] == REAL
    else:
        # same sent_at (none) and same ingest: a tie, reported, chosen by a hash of the values
        assert {r["why"].split(":")[0] for r in conflicts.values()} == {"tie"}
        assert conflicts[first]["winning_values"] == conflicts[last]["winning_values"]


def test_the_conflict_warning_counts_the_conflicting_readings(steps) -> None:
    warned = steps["warned"]
    assert warned.success
    tests = [r for r in warned.result.results if r.node.resource_type == "test"]
    # after the latest step: its MTR-FIRST, MTR-LAST and the corrected MTR-C
    assert len(steps["latest"]["fct_reading_conflicts"]) == 3
    assert [(r.node.name, r.status, r.failures) for r in tests] == [
        ("warn_on_reading_conflicts", "warn", 3)
    ]


@pytest.mark.parametrize(
    ("policy", "kept"), [("latest", FORGED), ("first", REAL), ("quarantine", None)]
)
def test_a_correction_in_a_later_run_is_decided_against_the_loaded_reading(
    steps, policy: str, kept: float | None
) -> None:
    tables = steps[policy]
    meter = _meter("C", policy)
    (conflict,) = _of(tables["fct_reading_conflicts"], meter)
    assert conflict["versions"] == 2
    assert conflict["why"].split(":")[0] == {"quarantine": "held"}.get(policy, policy)
    assert _watts(tables["int_meter_readings__clean"])[meter] == (kept or FORGED)
    if kept is not None:
        assert _watts(tables["fct_meter_readings"])[meter] == kept


def test_a_reading_held_in_a_later_run_leaves_the_curated_marts(steps) -> None:
    """Under quarantine, a curated reading that a later run's correction makes `held` leaves
    fct_meter_readings (the merge deletes it), and the marts recomputed per changed meter-day
    give what a full refresh over the same events gives: the day's energy without it, the next
    readings' rolling voltage without it, and no row at all for a day left without readings."""
    tables, meter = steps["quarantine"], _meter("C", "quarantine")
    readings = {_naive(r["timestamp"]): r for r in _of(tables["fct_meter_readings"], meter)}
    kept = [k for k in range(READINGS) if k != FORGED_K]
    assert sorted(readings) == [_at(k) for k in kept]  # the held reading is gone

    # a full refresh's values: over the readings that are not held
    expected_kwh = _expected_kwh([REAL] * len(kept))
    (day,) = _of(tables["fct_meter_daily_energy"], meter)
    assert day["reading_count"] == len(kept)
    assert day["kwh"] == pytest.approx(expected_kwh)
    dayparts = _of(tables["fct_meter_daypart_daily_energy"], meter)
    assert sum(r["reading_count"] for r in dayparts) == len(kept)
    assert sum(r["kwh"] for r in dayparts) == pytest.approx(expected_kwh)
    (loaded_day,) = _of(steps["loaded"]["fct_meter_daily_energy"], meter)
    assert loaded_day["reading_count"] == READINGS  # it was counted before
    for position, k in enumerate(kept):
        window = kept[max(0, position - 2) : position + 1]
        assert readings[_at(k)]["rolling_avg_voltage_v"] == pytest.approx(
            sum(_volts(j) for j in window) / len(window)
        ), k

    solo = _meter("SOLO", "quarantine")
    assert _of(steps["loaded"]["fct_meter_daily_energy"], solo)  # it had a day
    assert _of(tables["fct_meter_readings"], solo) == []
    assert _of(tables["fct_meter_daily_energy"], solo) == []
    assert _of(tables["fct_meter_daypart_daily_energy"], solo) == []
