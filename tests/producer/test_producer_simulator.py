"""The simulator: contract-valid events, stable ids, determinism, and calibration to grid facts."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime, timedelta

import jsonschema
import numpy as np
import orjson
import pytest
from producer_helpers import landing_bytes, landing_lines, options

from producer.fleet import build_fleet, meter_id, write_meter_registry
from producer.run import produce
from producer.simulator import Simulation
from smartgrid.contract import event_schema
from smartgrid.lake import Lake


def simulate(meters: int, days: int, interval_minutes: int = 15, seed: int = 3, nominal=230.0):
    fleet = build_fleet(meters, seed, nominal)
    sim = Simulation(
        fleet,
        start_ms=1736121600000,  # 2025-01-06T00:00:00Z, a Monday
        interval_ms=interval_minutes * 60_000,
        steps=days * 24 * 60 // interval_minutes,
        seed=seed,
    )
    events = [e for block in sim.blocks() for e in block.batch.events()]
    return fleet, events


def test_meter_ids_are_stable_and_six_digits() -> None:
    assert meter_id(0) == "MTR-000001" and meter_id(41) == "MTR-000042"
    assert build_fleet(3, 1).meter_ids == ("MTR-000001", "MTR-000002", "MTR-000003")


def test_events_validate_against_the_contract_with_every_field() -> None:
    fleet, events = simulate(meters=40, days=1, interval_minutes=60)
    validator = jsonschema.Draft202012Validator(
        event_schema(), format_checker=jsonschema.FormatChecker()
    )
    for event in events:
        validator.validate(event)
    fields = set().union(*events)
    # every field, energy_kwh included, but sent_at: only a conflicting resend carries one
    # (tests/producer/test_producer_conflict.py)
    assert fields == set(event_schema()["properties"]) - {"sent_at"}
    with_energy = {e["meter_id"] for e in events if "energy_kwh" in e}
    assert with_energy == {m for i, m in enumerate(fleet.meter_ids) if fleet.reports_energy[i]}
    assert 0 < len(with_energy) < fleet.size
    first = events[0]
    assert first["event_id"] == f"{first['meter_id']}-1736121600000"
    assert first["timestamp"] == "2025-01-06T00:00:00.000Z" and first["schema_version"] == 1


def test_readings_come_interval_by_interval_in_meter_order() -> None:
    fleet, events = simulate(meters=4, days=1, interval_minutes=60)
    assert [e["meter_id"] for e in events[:8]] == list(fleet.meter_ids) * 2
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    assert len(events) == 24 * 4


def test_a_week_of_households_is_calibrated_to_grid_facts() -> None:
    """Households average 7-30 kWh a day; voltage within EN 50160's +-10%; PF 0.85-1.0."""
    fleet, events = simulate(meters=120, days=7, interval_minutes=15)
    energy = defaultdict(float)
    for e in events:
        energy[e["meter_id"]] += e["real_power_watts"] * 0.25 / 1000.0
    index = {m: i for i, m in enumerate(fleet.meter_ids)}
    households = [m for m in energy if fleet.profile_name(index[m]) == "household"]
    plain = [m for m in households if not fleet.has_solar[index[m]]]
    solar = [m for m in households if fleet.has_solar[index[m]]]
    commercial = [m for m in energy if fleet.profile_name(index[m]) == "small_commercial"]
    assert plain and solar and commercial
    for m in plain:
        assert 7.0 <= energy[m] / 7 <= 30.0, (m, energy[m] / 7)
    assert np.mean([energy[m] / 7 for m in commercial]) > np.mean([energy[m] / 7 for m in plain])
    # Rooftop solar lowers daytime net load, down to export (negative power) at noon.
    noon_solar = [
        e["real_power_watts"] for e in events if e["meter_id"] in solar and "T12:" in e["timestamp"]
    ]
    assert min(noon_solar) < 0
    voltages = np.array([e["voltage"] for e in events])
    assert voltages.min() >= 207.0 and voltages.max() <= 253.0
    assert abs(np.median(voltages) - 230.0) < 5.0
    pf = np.array([e["power_factor"] for e in events])
    assert pf.min() >= 0.85 and pf.max() <= 1.0
    for e in events[:500]:  # current follows from power, voltage and power factor
        expected = abs(e["real_power_watts"]) / (e["voltage"] * e["power_factor"])
        assert e["current_a"] == pytest.approx(expected, abs=0.002)


def test_load_follows_the_clock() -> None:
    """Households: low at night, morning peak, evening peak highest; weekends flatter."""
    fleet, events = simulate(meters=200, days=7, interval_minutes=15)
    index = {m: i for i, m in enumerate(fleet.meter_ids)}
    by_hour = defaultdict(list)
    for e in events:
        i = index[e["meter_id"]]
        if fleet.profile_name(i) != "household" or fleet.has_solar[i]:
            continue
        moment = datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
        by_hour[(moment.weekday() >= 5, moment.hour)].append(e["real_power_watts"])
    mean = {key: np.mean(values) for key, values in by_hour.items()}
    night = np.mean([mean[(False, h)] for h in (1, 2, 3, 4)])
    morning = np.mean([mean[(False, h)] for h in (7, 8)])
    midday = np.mean([mean[(False, h)] for h in (11, 12, 13, 14)])
    evening = np.mean([mean[(False, h)] for h in (18, 19, 20)])
    assert night < midday < morning < evening
    weekday_curve = np.array([mean[(False, h)] for h in range(24)])
    weekend_curve = np.array([mean[(True, h)] for h in range(24)])
    assert weekend_curve.std() / weekend_curve.mean() < weekday_curve.std() / weekday_curve.mean()
    assert mean[(True, 7)] < mean[(False, 7)]  # weekend mornings start later


def test_nominal_voltage_120_is_selectable() -> None:
    _, events = simulate(meters=20, days=1, interval_minutes=60, nominal=120.0)
    voltages = np.array([e["voltage"] for e in events])
    assert voltages.min() >= 108.0 and voltages.max() <= 132.0
    assert abs(np.median(voltages) - 120.0) < 3.0


def test_same_seed_and_options_give_byte_identical_output(tmp_path) -> None:
    runs = []
    for name in ("a", "b"):
        lake = Lake.resolve(str(tmp_path / name))
        produce(options(meters=30, duration=timedelta(days=2), batch_size=1000), lake)
        runs.append(landing_bytes(lake.landing))
    assert runs[0] == runs[1] and len(runs[0].splitlines()) == 30 * 192
    other = Lake.resolve(str(tmp_path / "c"))
    produce(options(meters=30, duration=timedelta(days=2), seed=8), other)
    assert landing_bytes(other.landing) != runs[0]


def test_output_does_not_depend_on_batch_size_or_parallel_generation(tmp_path) -> None:
    """Blocks have their own random streams: making them on threads changes nothing."""
    fleet = build_fleet(3, 5)
    sim = Simulation(fleet, start_ms=0, interval_ms=1000, steps=20_000, seed=5)
    assert sim.steps_per_block < sim.steps  # several blocks
    serial = b"".join(b.batch.jsonl().to_pybytes() for b in sim.blocks())
    threaded = b"".join(b.batch.jsonl().to_pybytes() for b in sim.blocks(workers=2))
    assert serial == threaded


def test_meter_registry_describes_the_fleet(tmp_path) -> None:
    lake = Lake.resolve(str(tmp_path / "lake"))
    produce(options(meters=12), lake)
    with open(f"{lake.reference}/meters.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["meter_id"] for r in rows] == [meter_id(i) for i in range(12)]
    assert list(rows[0]) == [
        "meter_id",
        "profile",
        "has_solar",
        "nominal_voltage",
        "reports_energy",
    ]
    events = [orjson.loads(line) for line in landing_lines(lake.landing)]
    reporting = {e["meter_id"] for e in events if "energy_kwh" in e}
    assert reporting == {r["meter_id"] for r in rows if r["reports_energy"] == "true"}
    assert {r["profile"] for r in rows} <= {"household", "small_commercial"}
    # A smaller later fleet keeps the earlier meters' rows; no temp file is left behind.
    write_meter_registry(lake, build_fleet(3, 1, 120.0))
    with open(f"{lake.reference}/meters.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert (
        len(rows) == 12
        and rows[0]["nominal_voltage"] == "120"
        and rows[5]["nominal_voltage"] == "230"
    )
    assert sorted(p.name for p in (tmp_path / "lake" / "reference").iterdir()) == ["meters.csv"]
