"""Durations, timestamps and fault specs: good values parse, bad ones are refused by name."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from producer.faults import FaultSpec, parse_fault_spec
from smartgrid.durations import epoch_ms, format_timestamp_ms, parse_duration, parse_utc_timestamp
from smartgrid.errors import SmartgridError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("2h", 7200), ("7d", 604800), ("1w", 604800), ("250ms", 0.25)],
)
def test_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "15", "m", "1.5h", "-3m", "0s", "7 days", "3y"])
def test_bad_durations_are_refused_with_the_value(text: str) -> None:
    with pytest.raises(SmartgridError) as err:
        parse_duration(text, name="--interval")
    assert "--interval" in str(err.value) and repr(text) in str(err.value)


def test_timestamps_are_utc_with_milliseconds() -> None:
    moment = parse_utc_timestamp("2025-01-01T01:00:00+01:00")
    assert moment == datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert format_timestamp_ms(epoch_ms(moment) + 7) == "2025-01-01T00:00:00.007Z"
    with pytest.raises(SmartgridError, match="no time zone"):
        parse_utc_timestamp("2025-01-01T00:00:00")
    with pytest.raises(SmartgridError, match="not an ISO-8601 time"):
        parse_utc_timestamp("yesterday")


def test_fault_spec_parses_every_kind() -> None:
    spec = parse_fault_spec("duplicate=0.01,late=0.01,malformed=0.005,voltage=0.002")
    assert spec == FaultSpec(duplicate=0.01, late=0.01, malformed=0.005, voltage=0.002)
    assert not parse_fault_spec("").enabled and not parse_fault_spec(None).enabled


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dupe=0.1", "unknown fault kind 'dupe'"),
        ("late", "has no value"),
        ("late=abc", "not a number"),
        ("late=nan", "not a number"),
        ("late=-0.1", "between 0 and 1"),
        ("late=1.5", "between 0 and 1"),
        ("late=0.6,duplicate=0.6", "add up to 1.2"),
        ("late=0.1,late=0.2", "given twice"),
    ],
)
def test_bad_fault_specs_are_refused(text: str, message: str) -> None:
    with pytest.raises(SmartgridError, match=message):
        parse_fault_spec(text)
