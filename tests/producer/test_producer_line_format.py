"""The vectorised line formatter writes the same numbers a dict + orjson would."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from producer.line_format import LineFormatter


@pytest.mark.parametrize("scale", [1.0, 1000.0])  # 1000x leaves the lookup tables' range
def test_numbers_round_trip_at_their_precision(scale: float) -> None:
    rng = np.random.default_rng(11)
    steps, meters = 3, 50
    power = rng.normal(0, 3000, (steps, meters)) * scale
    power[0, :4] = [-0.04, -0.06, 0.0, -12.35]
    voltage = rng.uniform(100, 260, (steps, meters))
    pf = rng.uniform(0.85, 1.0, (steps, meters))
    pf[0, 0] = 1.0
    current = np.abs(power) / (voltage * pf)
    energy = power * 900 / 3.6e6
    reports = np.arange(meters) % 3 == 0
    ids = [f"MTR-{i + 1:06d}" for i in range(meters)]
    step_ms = 1735689600000 + np.arange(steps, dtype=np.int64) * 900_000
    batch = LineFormatter(ids, reports).format(step_ms, power, voltage, pf, current, energy)
    events = batch.events()
    assert batch.partition_keys() == ids * steps
    for k, event in enumerate(events):
        s, m = divmod(k, meters)
        assert event["meter_id"] == ids[m]
        assert event["real_power_watts"] == pytest.approx(np.round(power[s, m], 1), abs=1e-9)
        assert event["voltage"] == pytest.approx(np.round(voltage[s, m], 1), abs=1e-9)
        assert event["power_factor"] == pytest.approx(np.round(pf[s, m], 3), abs=1e-9)
        assert event["current_a"] == pytest.approx(np.round(current[s, m], 3), abs=1e-9)
        if reports[m]:
            assert event["energy_kwh"] == pytest.approx(np.round(energy[s, m], 6), abs=1e-12)
        else:
            assert "energy_kwh" not in event
        assert event["event_id"] == f"{ids[m]}-{step_ms[s]}"
    # Keys in the documented order; a negative value just below zero keeps its sign.
    first = batch.bodies()[0]
    assert list(orjson.loads(first)) == [
        "timestamp", "meter_id", "event_id", "schema_version", "real_power_watts", "voltage",
        "power_factor", "current_a", "energy_kwh",
    ]  # fmt: skip
    assert b'"real_power_watts":0.0,' in batch.bodies()[2]
    assert b'"real_power_watts":-0.1,' in batch.bodies()[1]
