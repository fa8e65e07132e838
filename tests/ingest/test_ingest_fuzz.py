"""Property-based fuzz: random bodies never break validation, and each lands exactly once.

Each hypothesis example is a batch of bodies -- random JSON objects, random text, mutated
valid events -- checked in one DataFrame. Properties:

1. every input row comes out exactly once, in validated xor quarantine (none lost, none doubled);
2. quarantined rows carry at least one reason, validated rows none;
3. the fast path (ingest.validation) gives exactly the rows of the full Variant checks;
4. the verdict agrees with an independent reference: Python's json + the ``jsonschema``
   validator on the contract, plus the rules JSON Schema cannot say (a real instant, not in
   the future, size, duplicate keys). ECMA-262's ``$`` (end of input) is applied to patterns:
   Python's ``re`` (used by jsonschema) also lets ``$`` match before a final newline.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import body, make_event
from jsonschema import Draft202012Validator
from pyspark.testing import assertDataFrameEqual

from ingest.rules import ValidationConfig
from ingest.validation import check
from smartgrid import contract

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
INPUT_SCHEMA = (
    "body string, source_name string, source_partition int, source_offset long, "
    "source_timestamp timestamp, ingest_time timestamp, batch_id long"
)
CONFIG = ValidationConfig()
SCHEMA = contract.event_schema()
VALIDATOR = Draft202012Validator(SCHEMA)
FIELDS = list(SCHEMA["properties"])

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)
timestamps = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 1),
        max_value=datetime(9999, 12, 31),
        timezones=st.just(timezone.utc),
    ).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"),
    st.sampled_from(
        [
            "2025-02-29T00:00:00.000Z",
            "2025-01-01T24:00:00.000Z",
            "2025-01-01T00:00:60.000Z",
            "2025-01-01T00:00:00Z",
            "2025-01-01T00:00:00.000Z\n",
            (NOW + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            (NOW + timedelta(minutes=6)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        ]
    ),
)
meter_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,70}", fullmatch=True) | text


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    event = make_event(draw(st.integers(0, 10_000)))
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from([*FIELDS, "extra"]))
        action = draw(
            st.sampled_from(["drop", "random", "timestamp", "meter_id", "number", "sent_at"])
        )
        if action == "drop":
            event.pop(field, None)
        elif action == "random":
            event[field] = draw(json_values)
        elif action == "timestamp":
            event["timestamp"] = draw(timestamps)
        elif action == "meter_id":
            event["meter_id"] = draw(meter_ids)
        elif action == "sent_at":
            event["sent_at"] = draw(timestamps | _sent_near(event.get("timestamp")))
        else:
            event[field] = draw(
                st.floats(-2e6, 2e6, allow_nan=False) | st.integers(-(2**40), 2**40)
            )
    return event


def _sent_near(stamp: Any) -> st.SearchStrategy[str]:
    """sent_at values around the reading's time, at and across the clock-skew bounds."""
    try:
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError):
        return st.nothing()
    offsets = [-6 * 60, -5 * 60, -4 * 60, 0, 1, 86_400]
    return st.sampled_from(
        [
            (moment + timedelta(seconds=o)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            for o in offsets
        ]
    )


def _repeat_a_field(event: dict[str, Any]) -> str:
    """A compact body naming one field twice: flat, but not for the fast path to decide."""
    text = body(event)
    return text[:-1] + ',"voltage":231.5}' if len(event) else text


bodies = st.one_of(
    mutated_events().map(body),
    # Compact and unescaped, as the producer writes them: the fast path's bodies.
    mutated_events().map(lambda e: json.dumps(e, separators=(",", ":"), ensure_ascii=False)),
    mutated_events().map(_repeat_a_field),
    st.dictionaries(text | st.sampled_from(FIELDS), json_values, max_size=6).map(json.dumps),
    json_values.map(json.dumps),
    text,
    mutated_events().map(lambda e: json.dumps(e, indent=1)),
    mutated_events().map(lambda e: body(e)[: len(body(e)) // 2]),
)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def expected_valid(raw: str) -> bool:
    """The reference verdict, written without Spark."""
    if len(raw.encode("utf-8")) > CONFIG.max_body_bytes:
        return False
    try:
        event = json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except ValueError:
        return False
    if not isinstance(event, dict) or not VALIDATOR.is_valid(event):
        return False
    for name, prop in SCHEMA["properties"].items():
        pattern = prop.get("pattern")
        if pattern and name in event and not re.search(pattern.replace("$", r"\Z"), event[name]):
            return False
    stamp = event["timestamp"]
    oldest = CONFIG.oldest_timestamp
    if stamp.startswith("0000"):
        # Proleptic year 0 is a real instant for Spark, not for Python's datetime.
        return oldest is None
    try:
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return False
    if oldest is not None and moment < oldest:
        return False
    skew = timedelta(seconds=CONFIG.max_future_skew_seconds)
    if moment > NOW + skew:
        return False
    if "sent_at" not in event:
        return True
    # the optional send time: a real instant, not after the ingest clock nor before the
    # reading, beyond the skew (year 0000 is before any reading this config accepts)
    try:
        sent = datetime.strptime(event["sent_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    sent = sent.replace(tzinfo=timezone.utc)
    return moment - skew <= sent <= NOW + skew


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(batch=st.lists(bodies, min_size=20, max_size=60))
def test_random_bodies_land_exactly_once_with_the_reference_verdict(spark, batch) -> None:
    rows = [(b, "fuzz", None, i, NOW, NOW, 0) for i, b in enumerate(batch)]
    events = spark.createDataFrame(rows, INPUT_SCHEMA)
    checked = check(events)
    # The fast path changes nothing: the same rows as the full Variant checks.
    assertDataFrameEqual(checked, check(events, ValidationConfig(fast_path=False)))
    got = checked.select("source_offset", "reasons", "timestamp", "meter_id").collect()
    assert sorted(r.source_offset for r in got) == list(range(len(batch)))
    for row in got:
        raw = batch[row.source_offset]
        valid = not row.reasons
        assert valid == expected_valid(raw), (raw, row.reasons)
        if valid:
            assert row.timestamp is not None and row.meter_id is not None
