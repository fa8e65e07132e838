"""Fault injection: each kind does what it says, is counted, and is off by default."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import jsonschema
import orjson
import pytest
from producer_helpers import RecordingSink, options

from producer.faults import MALFORMED_KINDS, REQUIRED_FIELDS, FaultSpec
from producer.run import produce
from smartgrid.contract import event_schema
from smartgrid.lake import Lake


def run(tmp_path, **faults):
    sink = RecordingSink()
    opts = options(meters=20, duration=timedelta(days=1), faults=FaultSpec(**faults))
    summary = produce(opts, Lake.resolve(str(tmp_path / "lake")), sink)
    return summary, sink.lines(), opts


def clean_lines(tmp_path) -> list[bytes]:
    return run(tmp_path / "clean")[1]


def test_faults_are_off_by_default(tmp_path) -> None:
    summary, lines, opts = run(tmp_path)
    assert summary.faults == {} and len(lines) == opts.total_readings == summary.events_sent
    validator = jsonschema.Draft202012Validator(event_schema())
    for line in lines:
        validator.validate(orjson.loads(line))


def test_duplicates_resend_the_same_body_with_the_same_event_id(tmp_path) -> None:
    summary, lines, opts = run(tmp_path, duplicate=0.05)
    assert summary.faults == {"duplicate": summary.events_sent - opts.total_readings} != {}
    counts = Counter(lines)
    duplicated = [line for line, n in counts.items() if n == 2]
    assert len(duplicated) == summary.faults["duplicate"] and max(counts.values()) == 2
    ids = Counter(orjson.loads(line)["event_id"] for line in lines)
    assert sum(n - 1 for n in ids.values()) == summary.faults["duplicate"]
    assert set(lines) == set(clean_lines(tmp_path))  # nothing else changed


def test_late_events_arrive_after_later_readings_and_none_is_lost(tmp_path) -> None:
    summary, lines, opts = run(tmp_path, late=0.05)
    assert summary.faults["late"] > 0 and summary.events_sent == opts.total_readings
    assert sorted(lines) == sorted(clean_lines(tmp_path))  # same events, another order
    stamps = [orjson.loads(line)["timestamp"] for line in lines]
    out_of_order = sum(1 for i in range(1, len(stamps)) if stamps[i] < max(stamps[:i]))
    assert out_of_order >= summary.faults["late"] * 0.5


def test_malformed_bodies_cover_every_sub_kind_and_never_hold_a_newline(tmp_path) -> None:
    summary, lines, _ = run(tmp_path, malformed=0.05)
    total = summary.faults["malformed"]
    assert total > 8
    assert sum(summary.faults[f"malformed.{k}"] for k in MALFORMED_KINDS) == total
    seen: Counter[str] = Counter()
    validator = jsonschema.Draft202012Validator(event_schema())
    for line in lines:
        assert b"\n" not in line and b"\r" not in line
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            seen["broken_json"] += 1
            continue
        errors = list(validator.iter_errors(event))
        if not errors:
            continue
        kinds = {e.validator for e in errors}
        if kinds == {"required"}:
            assert len([f for f in REQUIRED_FIELDS if f not in event]) == 1
            seen["missing_field"] += 1
        elif kinds == {"type"}:
            seen["wrong_type"] += 1
        elif kinds <= {"minimum", "maximum"}:
            seen["out_of_range"] += 1
    assert dict(seen) == {k: summary.faults[f"malformed.{k}"] for k in MALFORMED_KINDS}


def test_voltage_faults_are_sags_and_swells_outside_en_50160(tmp_path) -> None:
    summary, lines, _ = run(tmp_path, voltage=0.05)
    events = [orjson.loads(line) for line in lines]
    outside = [e for e in events if not 207.0 <= e["voltage"] <= 253.0]
    sags = [e for e in outside if e["voltage"] < 207.0]
    assert len(outside) == summary.faults["voltage"] > 0
    assert len(sags) == summary.faults["voltage.sag"] > 0
    assert len(outside) - len(sags) == summary.faults["voltage.swell"] > 0
    validator = jsonschema.Draft202012Validator(event_schema())
    for e in outside:
        validator.validate(e)  # still a well-formed event
        assert e["current_a"] == pytest.approx(
            abs(e["real_power_watts"]) / (e["voltage"] * e["power_factor"]), abs=0.002
        )


def test_faults_do_not_change_the_clean_readings(tmp_path) -> None:
    _, lines, _ = run(tmp_path, duplicate=0.01, late=0.01, malformed=0.01, voltage=0.01)
    assert len(set(lines) & set(clean_lines(tmp_path))) > 0.95 * len(set(lines))


def test_same_seed_gives_the_same_faults(tmp_path) -> None:
    spec = {"duplicate": 0.02, "late": 0.02, "malformed": 0.02, "voltage": 0.02}
    first = run(tmp_path / "a", **spec)
    second = run(tmp_path / "b", **spec)
    assert first[1] == second[1] and first[0].faults == second[0].faults
