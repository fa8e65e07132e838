"""Each validation rule on hand-made rows (one DataFrame per test keeps Spark work small)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from ingest_helpers import body, make_event
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from ingest.rules import ValidationConfig
from ingest.sources import landing_lines
from ingest.tables import QUARANTINE_SCHEMA, RAW_SCHEMA, VALIDATED_SCHEMA
from ingest.validation import (
    check,
    ecma_to_java_regex,
    to_quarantine,
    to_raw,
    to_validated,
    validate,
)

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
INPUT_SCHEMA = (
    "body string, source_name string, source_partition int, source_offset long, "
    "source_timestamp timestamp, ingest_time timestamp, batch_id long"
)


def events(spark, bodies):
    rows = [(b, "file:/landing/a.jsonl", None, i, NOW, NOW, 7) for i, b in enumerate(bodies)]
    return spark.createDataFrame(rows, INPUT_SCHEMA)


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def with_raw(event: dict, raw_field: str, raw_value: str) -> str:
    """The event's body with one field's JSON text replaced verbatim (NaN, duplicates...)."""
    marker = "__RAW__"
    return body({**event, raw_field: marker}).replace(f'"{marker}"', raw_value)


VALID = make_event(1)
CASES: list[tuple[str, str, set[str]]] = [
    ("valid", body(VALID), set()),
    (
        "valid without optional fields",
        body(make_event(2, event_id=None, energy_kwh=None, current_a=None, schema_version=None)),
        set(),
    ),
    ("solar export", body(make_event(3, real_power_watts=-4500.0)), set()),
    ("120 V grid", body(make_event(4, voltage=119.5)), set()),
    ("integer-valued numbers", body(make_event(5, voltage=230, schema_version=1.0)), set()),
    ("leading/trailing whitespace", " \t" + body(VALID) + " \r", set()),
    ("within clock skew", body(make_event(6, timestamp=ts(NOW + timedelta(minutes=4)))), set()),
    ("not json", "meter 42 says hi", {"not_json"}),
    ("empty", "", {"not_json"}),
    ("truncated", body(VALID)[:-5], {"not_json"}),
    ("trailing garbage", body(VALID) + " x", {"not_json"}),
    ("two objects", body(VALID) + body(VALID), {"not_json"}),
    ("NaN", with_raw(VALID, "voltage", "NaN"), {"not_json"}),
    ("Infinity", with_raw(VALID, "voltage", "Infinity"), {"not_json"}),
    ("duplicate key", with_raw(VALID, "voltage", '230, "voltage": 231'), {"duplicate_key"}),
    ("array", "[" + body(VALID) + "]", {"not_object"}),
    ("string", '"hello"', {"not_object"}),
    ("number", "42", {"not_object"}),
    ("null", "null", {"not_object"}),
    ("missing meter_id", body(make_event(7, meter_id=None)), {"missing_field:meter_id"}),
    ("missing timestamp", body(make_event(7, timestamp=None)), {"missing_field:timestamp"}),
    (
        "empty object",
        "{}",
        {
            f"missing_field:{f}"
            for f in ("timestamp", "meter_id", "real_power_watts", "voltage", "power_factor")
        },
    ),
    ("string voltage", body(make_event(8, voltage="230.1")), {"bad_type:voltage"}),
    ("numeric meter_id", body(make_event(8, meter_id=42)), {"bad_type:meter_id"}),
    ("null power_factor", with_raw(VALID, "power_factor", "null"), {"bad_type:power_factor"}),
    ("boolean watts", body(make_event(8, real_power_watts=True)), {"bad_type:real_power_watts"}),
    ("object current", body(make_event(8, current_a={"v": 1})), {"bad_type:current_a"}),
    (
        "fractional schema_version",
        body(make_event(8, schema_version=1.5)),
        {"bad_type:schema_version"},
    ),
    ("numeric timestamp", body(make_event(8, timestamp=1735689600000)), {"bad_type:timestamp"}),
    ("numeric event_id", body(make_event(8, event_id=5)), {"bad_type:event_id"}),
    ("power factor above 1", body(make_event(9, power_factor=1.01)), {"out_of_range:power_factor"}),
    ("negative voltage", body(make_event(9, voltage=-1)), {"out_of_range:voltage"}),
    ("voltage above 480", body(make_event(9, voltage=481)), {"out_of_range:voltage"}),
    (
        "export beyond bound",
        body(make_event(9, real_power_watts=-100001)),
        {"out_of_range:real_power_watts"},
    ),
    (
        "huge number",
        with_raw(VALID, "real_power_watts", "1e999"),
        {"out_of_range:real_power_watts"},
    ),
    ("energy out of range", body(make_event(9, energy_kwh=10001)), {"out_of_range:energy_kwh"}),
    ("schema_version 0", body(make_event(9, schema_version=0)), {"out_of_range:schema_version"}),
    (
        "schema_version beyond int",
        body(make_event(9, schema_version=2**31)),
        {"out_of_range:schema_version"},
    ),
    (
        "space instead of T",
        body(make_event(10, timestamp="2025-01-01 00:00:00.000Z")),
        {"bad_timestamp"},
    ),
    ("no milliseconds", body(make_event(10, timestamp="2025-01-01T00:00:00Z")), {"bad_timestamp"}),
    (
        "offset not Z",
        body(make_event(10, timestamp="2025-01-01T00:00:00.000+01:00")),
        {"bad_timestamp"},
    ),
    (
        "not a real date",
        body(make_event(10, timestamp="2025-02-29T00:00:00.000Z")),
        {"bad_timestamp"},
    ),
    ("hour 24", body(make_event(10, timestamp="2025-01-01T24:00:00.000Z")), {"bad_timestamp"}),
    (
        "trailing newline in timestamp",
        body(make_event(10, timestamp="2025-01-01T00:00:00.000Z\n")),
        {"bad_timestamp"},
    ),
    (
        "future",
        body(make_event(11, timestamp=ts(NOW + timedelta(minutes=6)))),
        {"future_timestamp"},
    ),
    ("oldest accepted instant", body(make_event(11, timestamp="2000-01-01T00:00:00.000Z")), set()),
    (
        "reset clock, 1900",
        body(make_event(11, timestamp="1900-01-01T00:00:00.000Z")),
        {"too_old_timestamp"},
    ),
    (
        "just before 2000",
        body(make_event(11, timestamp="1999-12-31T23:59:59.999Z")),
        {"too_old_timestamp"},
    ),
    ("meter id with spaces", body(make_event(12, meter_id="MTR 1")), {"bad_meter_id"}),
    ("empty meter id", body(make_event(12, meter_id="")), {"bad_meter_id"}),
    ("meter id with newline", body(make_event(12, meter_id="MTR-1\n")), {"bad_meter_id"}),
    ("meter id too long", body(make_event(12, meter_id="M" * 65)), {"bad_meter_id"}),
    ("event id too long", body(make_event(13, event_id="e" * 129)), {"too_long:event_id"}),
    ("too large", body(make_event(14, note="x" * 70_000)), {"too_large"}),
    (
        "several problems",
        body({"timestamp": "yesterday", "meter_id": 5, "voltage": 999}),
        {
            "bad_timestamp",
            "bad_type:meter_id",
            "out_of_range:voltage",
            "missing_field:real_power_watts",
            "missing_field:power_factor",
        },
    ),
]


def test_every_rule_on_hand_made_rows(spark) -> None:
    checked = check(events(spark, [b for _, b, _ in CASES]))
    got = {row.source_offset: set(row.reasons) for row in checked.collect()}
    mismatches = {
        name: (got[i], expected)
        for i, (name, _, expected) in enumerate(CASES)
        if got[i] != expected
    }
    assert not mismatches
    validated, quarantine = to_validated(checked), to_quarantine(checked)
    valid_offsets = {r.source_offset for r in validated.select("source_offset").collect()}
    bad_offsets = {r.source_offset for r in quarantine.select("source_offset").collect()}
    assert valid_offsets == {i for i, (_, _, e) in enumerate(CASES) if not e}
    assert bad_offsets == {i for i, (_, _, e) in enumerate(CASES) if e}
    assert quarantine.where(F.size("reasons") == 0).count() == 0


def test_validated_rows_are_typed_with_lineage(spark) -> None:
    extra = {"firmware": "2.1.0", "tariff": {"zone": "peak", "rates": [1, 2]}}
    bodies = [
        body({**make_event(1), **extra}),
        body(make_event(2, energy_kwh=None, schema_version=None)),
    ]
    validated = to_validated(check(events(spark, bodies)))
    assert validated.schema.simpleString() == VALIDATED_SCHEMA.simpleString()
    expected = spark.createDataFrame(
        [
            (
                "evt-00000001",
                "2025-01-01 00:01:00",
                "MTR-000001",
                1501.5,
                230.1,
                0.95,
                0.025,
                6.5,
                1,
                "file:/landing/a.jsonl",
                None,
                0,
                7,
            ),
            (
                "evt-00000002",
                "2025-01-01 00:02:00",
                "MTR-000002",
                1502.5,
                230.1,
                0.95,
                None,
                6.5,
                None,
                "file:/landing/a.jsonl",
                None,
                1,
                7,
            ),
        ],
        "event_id string, ts string, meter_id string, real_power_watts double, voltage double, "
        "power_factor double, energy_kwh double, current_a double, schema_version int, "
        "source_name string, source_partition int, source_offset long, batch_id long",
    )
    actual = validated.select(
        "event_id",
        F.date_format("timestamp", "yyyy-MM-dd HH:mm:ss").alias("ts"),
        "meter_id",
        "real_power_watts",
        "voltage",
        "power_factor",
        "energy_kwh",
        "current_a",
        "schema_version",
        "source_name",
        "source_partition",
        "source_offset",
        "batch_id",
    )
    assertDataFrameEqual(actual, expected)
    extras = {r.source_offset: r.extra_fields for r in validated.collect()}
    assert json.loads(extras[0]) == extra
    assert extras[1] is None
    # The timestamp is the UTC instant of the reading.
    epoch = validated.where("source_offset = 0").select(F.unix_millis("timestamp")).first()[0]
    assert epoch == int(datetime(2025, 1, 1, 0, 1, tzinfo=timezone.utc).timestamp() * 1000)


def test_quarantine_keeps_body_reasons_and_best_effort_fields(spark) -> None:
    bad = body(make_event(3, voltage="high"))
    raw = events(spark, [bad, "nope"])
    quarantine = to_quarantine(check(raw))
    assert quarantine.schema.simpleString() == QUARANTINE_SCHEMA.simpleString()
    expected = spark.createDataFrame(
        [
            (bad, ["bad_type:voltage"], "MTR-000003", "2025-01-01T00:03:00.000Z", 0),
            ("nope", ["not_json"], None, None, 1),
        ],
        "body string, reasons array<string>, meter_id string, event_timestamp string, "
        "source_offset long",
    )
    assertDataFrameEqual(
        quarantine.select("body", "reasons", "meter_id", "event_timestamp", "source_offset"),
        expected,
    )
    assert to_raw(raw).schema.simpleString() == RAW_SCHEMA.simpleString()


def test_thresholds_come_from_the_config(spark) -> None:
    config = ValidationConfig(max_body_bytes=400, max_future_skew_seconds=3600).with_range(
        "voltage", 200.0, 250.0
    )
    bodies = [
        body(make_event(1, voltage=119.0)),
        body(make_event(2, timestamp=ts(NOW + timedelta(minutes=30)))),
        body(make_event(3, note="x" * 400)),
    ]
    got = [
        set(r.reasons)
        for r in check(events(spark, bodies), config).orderBy("source_offset").collect()
    ]
    assert got == [{"out_of_range:voltage"}, set(), {"too_large"}]


def test_oldest_timestamp_comes_from_the_config(spark) -> None:
    """The lower bound moves with the config, and None lifts it (a 1900 reading then passes)."""
    bodies = [
        body(make_event(1, timestamp="2019-12-31T23:59:59.999Z")),
        body(make_event(2, timestamp="2020-01-01T00:00:00.000Z")),
        body(make_event(3, timestamp="1900-01-01T00:00:00.000Z")),
    ]
    config = ValidationConfig(oldest_timestamp=datetime(2020, 1, 1, tzinfo=timezone.utc))
    got = [
        set(r.reasons)
        for r in check(events(spark, bodies), config).orderBy("source_offset").collect()
    ]
    assert got == [{"too_old_timestamp"}, set(), {"too_old_timestamp"}]
    unbounded = check(events(spark, bodies), ValidationConfig(oldest_timestamp=None))
    assert unbounded.where(F.size("reasons") > 0).count() == 0


def test_validate_returns_both_sides(spark) -> None:
    validated, quarantine = validate(events(spark, [body(VALID), "x"]))
    assert (validated.count(), quarantine.count()) == (1, 1)


@pytest.mark.parametrize(
    ("pattern", "java"),
    [("^a$", "^a\\z"), ("^[$]x$", "^[$]x\\z"), ("^a\\$$", "^a\\$\\z")],
)
def test_ecma_end_anchor_becomes_java_end_of_input(pattern: str, java: str) -> None:
    assert ecma_to_java_regex(pattern) == java


def test_landing_lines_keep_file_positions(spark) -> None:
    files = spark.createDataFrame(
        [
            ('{"a":1}\n{"a":2}\n', "f1", NOW),
            ('{"a":1}\n\n{"a":3}', "f2", NOW),  # an empty line is an event; no final newline
            ("", "f3", NOW),
            ("\n", "f4", NOW),
        ],
        "value string, source_name string, source_timestamp timestamp",
    )
    got = sorted((r.source_name, r.source_offset, r.body) for r in landing_lines(files).collect())
    assert got == [
        ("f1", 0, '{"a":1}'),
        ("f1", 1, '{"a":2}'),
        ("f2", 0, '{"a":1}'),
        ("f2", 1, ""),
        ("f2", 2, '{"a":3}'),
        ("f4", 0, ""),
    ]


FAST_PATH_CASES: list[tuple[str, str, bool]] = [
    # (case, body, decided by the fast path?)
    ("plain event", body(VALID), True),
    ("no optional fields", body(make_event(2, event_id=None, energy_kwh=None)), True),
    ("out of range, still plain", body(make_event(9, voltage=481)), True),
    (
        "bad timestamp, still plain",
        body(make_event(10, timestamp="2025-02-29T00:00:00.000Z")),
        True,
    ),
    ("fixed-point numbers", with_raw(VALID, "power_factor", "0.950"), True),
    ("exponent", with_raw(VALID, "energy_kwh", "2.5e-2"), True),
    ("repeated field", with_raw(VALID, "voltage", '230,"voltage":231'), False),
    ("number as a string", body(make_event(8, voltage="230.1")), False),
    ("string field as a number", body(make_event(8, meter_id=42)), False),
    ("key in another case", body({**make_event(3, voltage=None), "Voltage": 230.1}), False),
    ("null optional field", with_raw(VALID, "energy_kwh", "null"), False),
    ("unknown field", body(make_event(4, note="hi")), False),
    ("overflowing number", with_raw(VALID, "real_power_watts", "1e999"), False),
    ("escape in a string", body(VALID).replace("MTR-", "MTR\\u002d"), False),
    ("spaces", json.dumps(VALID), False),
    ("sentinel inside", body(make_event(5, event_id="smartgrid:end-of-body:5f0c")), False),
    ("trailing text", body(VALID) + " x", False),
]


def test_fast_path_decides_plain_events_exactly_as_the_variant_path(spark) -> None:
    """The fast path takes the plain events (and only bodies it can read exactly), and its
    verdicts and typed rows equal those of the full Variant checks on the same bodies."""
    from ingest.validation import _CERTIFIED, prepare

    df = events(spark, [b for _, b, _ in FAST_PATH_CASES] + [b for _, b, _ in CASES])
    taken = {
        row.source_offset: row[_CERTIFIED]
        for row in prepare(df).select("source_offset", _CERTIFIED).collect()
    }
    for offset, (case, _, expected) in enumerate(FAST_PATH_CASES):
        assert taken[offset] is expected, case

    with_fast = check(df, ValidationConfig(fast_path=True))
    variant_only = check(df, ValidationConfig(fast_path=False))
    assertDataFrameEqual(with_fast, variant_only)
    assert with_fast.where(F.size("reasons") == 0).count() > 0
