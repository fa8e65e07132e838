"""The ``conflict`` fault: a seeded resend of an earlier reading with other values, sent later."""

from __future__ import annotations

from datetime import timedelta

import jsonschema
import orjson
import pytest
from producer_helpers import RecordingSink, options

from producer.faults import (
    CONFLICT_MAX_STEPS,
    CONFLICT_WATTS,
    FAULT_KINDS,
    FaultSpec,
    conflict_event,
    parse_fault_spec,
)
from producer.run import produce
from smartgrid.contract import event_schema
from smartgrid.durations import epoch_ms, parse_utc_timestamp
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

INTERVAL = timedelta(minutes=15)


def run(tmp_path, *, seed=7, **faults):
    sink = RecordingSink()
    opts = options(
        meters=20,
        duration=timedelta(days=1),
        interval=INTERVAL,
        seed=seed,
        faults=FaultSpec(**faults),
    )
    summary = produce(opts, Lake.resolve(str(tmp_path / "lake")), sink)
    return summary, sink.lines(), opts


def ms(text: str) -> int:
    return epoch_ms(parse_utc_timestamp(text))


def test_conflict_is_a_fault_kind_of_the_option() -> None:
    assert "conflict" in FAULT_KINDS
    assert parse_fault_spec("conflict=0.02,duplicate=0.01") == FaultSpec(
        conflict=0.02, duplicate=0.01
    )
    assert str(FaultSpec(conflict=0.02)) == "conflict=0.02"
    with pytest.raises(SmartgridError, match="at most 1"):
        FaultSpec(conflict=0.6, late=0.5)


def test_a_conflict_resends_a_reading_later_with_other_values_and_a_later_sent_at(
    tmp_path,
) -> None:
    summary, lines, opts = run(tmp_path, conflict=0.05)
    clean = run(tmp_path / "clean")[1]
    conflicts = summary.faults["conflict"]
    assert conflicts > 0 and summary.faults == {"conflict": conflicts}
    assert summary.events_sent == opts.total_readings + conflicts
    events = [orjson.loads(line) for line in lines]
    resends = [(i, e) for i, e in enumerate(events) if "sent_at" in e]
    assert len(resends) == conflicts
    # Every ordinary reading goes out unchanged and without sent_at: the clean stream, in order.
    assert [line for line, e in zip(lines, events, strict=True) if "sent_at" not in e] == clean
    first_seen = {}
    for i, e in enumerate(events):
        first_seen.setdefault((e["meter_id"], e["timestamp"]), i)
    validator = jsonschema.Draft202012Validator(event_schema())
    interval_ms = INTERVAL // timedelta(milliseconds=1)
    for i, resend in resends:
        validator.validate(resend)
        j = first_seen[(resend["meter_id"], resend["timestamp"])]
        original = events[j]
        assert j < i and "sent_at" not in original
        assert resend["event_id"] == original["event_id"]
        change = abs(resend["real_power_watts"] - original["real_power_watts"])
        assert CONFLICT_WATTS[0] - 0.1 <= change <= CONFLICT_WATTS[1] + 0.1
        assert ("energy_kwh" in resend) == ("energy_kwh" in original)
        assert (
            resend.get("energy_kwh") != original.get("energy_kwh") or "energy_kwh" not in original
        )
        waited = ms(resend["sent_at"]) - ms(resend["timestamp"])
        assert waited in {1} | {k * interval_ms for k in range(1, CONFLICT_MAX_STEPS + 1)}
        # sent on the simulated clock, right after the readings of the interval it names (the
        # reading's own interval, plus 1 ms, when that is the run's last), never after the run
        sent = ms(resend["sent_at"])
        before = max(ms(e["timestamp"]) for e in events[:i])
        assert before == sent or (waited == 1 and before + 1 == sent)
    last = max(ms(e["timestamp"]) for e in events)
    assert max(ms(e["sent_at"]) for _, e in resends) <= last + 1
    assert any(ms(e["sent_at"]) == ms(e["timestamp"]) + 1 for _, e in resends)
    # exactly one resend per conflicting key: two versions, never more
    keys = [(e["meter_id"], e["timestamp"]) for _, e in resends]
    assert len(set(keys)) == len(keys)


def test_conflicts_are_seeded_and_reproducible(tmp_path) -> None:
    first = run(tmp_path / "a", conflict=0.03, duplicate=0.01, late=0.01)
    second = run(tmp_path / "b", conflict=0.03, duplicate=0.01, late=0.01)
    other = run(tmp_path / "c", seed=8, conflict=0.03, duplicate=0.01, late=0.01)
    assert first[1] == second[1] and first[0].faults == second[0].faults
    resent = [line for line in first[1] if b'"sent_at"' in line]
    assert resent and resent != [line for line in other[1] if b'"sent_at"' in line]


def test_conflict_off_leaves_the_other_faults_as_they_were(tmp_path) -> None:
    """conflict is drawn last: with it at 0 the other kinds pick the same readings."""
    spec = {"duplicate": 0.02, "late": 0.02, "malformed": 0.02, "voltage": 0.02}
    without = run(tmp_path / "a", **spec)
    with_zero = run(tmp_path / "b", **spec, conflict=0.0)
    assert without[1] == with_zero[1] and "conflict" not in with_zero[0].faults


@pytest.mark.parametrize("u", [0.0, 0.25, 0.5, 0.99])
def test_conflict_event_moves_power_and_follows_with_current_and_energy(u: float) -> None:
    reading = {
        "timestamp": "2025-01-06T10:15:00.000Z",
        "meter_id": "MTR-000001",
        "event_id": "MTR-000001-1736158500000",
        "real_power_watts": 812.4,
        "voltage": 231.0,
        "power_factor": 0.95,
        "current_a": 3.702,
        "energy_kwh": 0.2031,
    }
    resend = conflict_event(reading, u, 30 * 60_000, 15 * 60_000)
    assert resend["sent_at"] == "2025-01-06T10:45:00.000Z"
    assert resend["real_power_watts"] != reading["real_power_watts"]
    assert (resend["real_power_watts"] < reading["real_power_watts"]) == (u < 0.5)
    assert resend["current_a"] == round(abs(resend["real_power_watts"]) / (231.0 * 0.95), 3)
    assert resend["energy_kwh"] == round(resend["real_power_watts"] / 4000.0, 6)
    assert {
        k: v
        for k, v in resend.items()
        if k not in ("real_power_watts", "current_a", "energy_kwh", "sent_at")
    } == {
        k: v for k, v in reading.items() if k not in ("real_power_watts", "current_a", "energy_kwh")
    }
    assert reading.get("sent_at") is None  # the original is not modified
    with pytest.raises(ValueError):
        conflict_event(reading, u, 0, 15 * 60_000)


def test_conflict_event_stays_within_the_contract_at_its_bounds() -> None:
    low = {
        "timestamp": "2025-01-06T10:15:00.000Z",
        "meter_id": "M",
        "real_power_watts": -99_950.0,
        "voltage": 230.0,
        "power_factor": 1.0,
    }
    assert conflict_event(low, 0.0, 1, 1)["real_power_watts"] == -98_950.0
