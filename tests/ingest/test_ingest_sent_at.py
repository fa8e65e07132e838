"""The contract's optional ``sent_at``: checked by the ingest, a valid one kept as received.

One DataFrame of hand-made bodies for the rules, one for the two validation paths: the Spark
work stays small. Before ``sent_at`` was in the contract the ingest kept any value among the
unknown fields, so every bad case below passed as valid.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from ingest_helpers import body, make_event
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from ingest.rules import FieldRule, ValidationConfig, rules_from_schema
from ingest.validation import check, to_quarantine, to_validated
from smartgrid import contract
from smartgrid.errors import SmartgridError

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
INPUT_SCHEMA = (
    "body string, source_name string, source_partition int, source_offset long, "
    "source_timestamp timestamp, ingest_time timestamp, batch_id long"
)
READING = datetime(2025, 1, 1, 0, 1, 0, tzinfo=timezone.utc)  # make_event(1)'s timestamp


def events(spark, bodies):
    rows = [(b, "file:/landing/a.jsonl", None, i, NOW, NOW, 7) for i, b in enumerate(bodies)]
    return spark.createDataFrame(rows, INPUT_SCHEMA)


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sent(value, **overrides) -> str:
    return body(make_event(1, sent_at=value, **overrides))


SENT = ts(READING + timedelta(seconds=5, milliseconds=250))
# (case, body, reasons, extra_fields of a valid row)
CASES: list[tuple[str, str, set[str], str | None]] = [
    ("no sent_at", body(make_event(1)), set(), None),
    ("a few seconds after the reading", sent(SENT), set(), f'{{"sent_at":"{SENT}"}}'),
    ("at the reading's instant", sent(ts(READING)), set(), f'{{"sent_at":"{ts(READING)}"}}'),
    (
        "a resend a day later",
        sent(ts(READING + timedelta(days=1))),
        set(),
        f'{{"sent_at":"{ts(READING + timedelta(days=1))}"}}',
    ),
    (
        "before the reading, within the clock skew",
        sent(ts(READING - timedelta(minutes=4))),
        set(),
        f'{{"sent_at":"{ts(READING - timedelta(minutes=4))}"}}',
    ),
    (
        "ahead of the ingest clock, within the skew",
        sent(ts(NOW + timedelta(minutes=4)), timestamp=ts(NOW)),
        set(),
        f'{{"sent_at":"{ts(NOW + timedelta(minutes=4))}"}}',
    ),
    (
        "with an unknown field too",
        body({**make_event(1, sent_at=SENT), "firmware": "2.1.0"}),
        set(),
        f'{{"firmware":"2.1.0","sent_at":"{SENT}"}}',
    ),
    ("pretty-printed", json.dumps(make_event(1, sent_at=SENT)), set(), f'{{"sent_at":"{SENT}"}}'),
    (
        "before the reading, beyond the skew",
        sent(ts(READING - timedelta(minutes=6))),
        {"out_of_range:sent_at"},
        None,
    ),
    ("years before the reading", sent("2020-01-01T00:00:00.000Z"), {"out_of_range:sent_at"}, None),
    (
        "after the ingest clock, beyond the skew",
        sent(ts(NOW + timedelta(minutes=6))),
        {"out_of_range:sent_at"},
        None,
    ),
    ("no milliseconds", sent("2025-01-01T00:01:05Z"), {"bad_format:sent_at"}, None),
    ("offset not Z", sent("2025-01-01T01:01:05.000+01:00"), {"bad_format:sent_at"}, None),
    ("space instead of T", sent("2025-01-01 00:01:05.000Z"), {"bad_format:sent_at"}, None),
    ("not a real date", sent("2025-02-29T00:00:00.000Z"), {"bad_format:sent_at"}, None),
    ("hour 24", sent("2025-01-01T24:00:00.000Z"), {"bad_format:sent_at"}, None),
    ("trailing newline", sent(SENT + "\n"), {"bad_format:sent_at"}, None),
    ("free text", sent("just now"), {"bad_format:sent_at"}, None),
    ("epoch milliseconds", sent(1735689665250), {"bad_type:sent_at"}, None),
    ("null", body(make_event(1)).replace("}", ',"sent_at":null}'), {"bad_type:sent_at"}, None),
    (
        "bad reading time: sent_at is not compared with it",
        sent(SENT, timestamp="yesterday"),
        {"bad_timestamp"},
        None,
    ),
    (
        "bad reading time and bad sent_at",
        sent("now", timestamp="yesterday"),
        {"bad_timestamp", "bad_format:sent_at"},
        None,
    ),
]


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "variant-only"])
def test_sent_at_rules_and_a_valid_one_kept_as_received(spark, fast_path: bool) -> None:
    checked = check(
        events(spark, [b for _, b, _, _ in CASES]), ValidationConfig(fast_path=fast_path)
    ).cache()
    got = {row.source_offset: set(row.reasons) for row in checked.collect()}
    wrong = {
        name: (got[i], reasons)
        for i, (name, _, reasons, _) in enumerate(CASES)
        if got[i] != reasons
    }
    assert not wrong
    # The validated table has no sent_at column: the value stays in extra_fields, verbatim.
    kept = {
        row.source_offset: row.extra_fields
        for row in to_validated(checked).select("source_offset", "extra_fields").collect()
    }
    assert kept == {i: extra for i, (_, _, reasons, extra) in enumerate(CASES) if not reasons}
    quarantined = {
        row.source_offset: (row.meter_id, row.event_timestamp)
        for row in to_quarantine(checked).collect()
    }
    assert set(quarantined) == {i for i, (_, _, reasons, _) in enumerate(CASES) if reasons}
    offset = next(
        i for i, c in enumerate(CASES) if c[0] == "after the ingest clock, beyond the skew"
    )
    assert quarantined[offset] == ("MTR-000001", ts(READING))
    checked.unpersist()


def test_a_flat_event_with_sent_at_takes_the_fast_path_with_the_same_result(spark) -> None:
    """Simulated and replayed events are flat: with sent_at they still skip the Variant parse,
    and its verdicts and typed rows equal the Variant path's."""
    from ingest.validation import _CERTIFIED, prepare

    bodies = [b for _, b, _, _ in CASES]
    df = events(spark, bodies)
    certified = {
        row.source_offset: row[_CERTIFIED]
        for row in prepare(df).select("source_offset", _CERTIFIED).collect()
    }
    assert certified[1] is True  # "a few seconds after the reading"
    assertDataFrameEqual(
        check(df, ValidationConfig(fast_path=True)), check(df, ValidationConfig(fast_path=False))
    )


def test_the_clock_skew_bounds_sent_at_both_ways(spark) -> None:
    four_minutes_early = sent(ts(READING - timedelta(minutes=4)))
    four_minutes_ahead = sent(ts(NOW + timedelta(minutes=4)), timestamp=ts(NOW))
    strict = ValidationConfig(max_future_skew_seconds=60)
    reasons = [
        set(row.reasons)
        for row in check(events(spark, [four_minutes_early, four_minutes_ahead]), strict)
        .orderBy("source_offset")
        .collect()
    ]
    assert reasons == [{"out_of_range:sent_at"}, {"out_of_range:sent_at"}]


def test_sent_at_is_an_optional_contract_field_in_the_timestamp_form() -> None:
    schema = contract.event_schema()
    assert "sent_at" in schema["properties"]
    assert "sent_at" not in schema["required"]
    assert (
        schema["properties"]["sent_at"]["pattern"] == schema["properties"]["timestamp"]["pattern"]
    )
    config = ValidationConfig()
    assert config.sent_at_rule == FieldRule(
        "sent_at", "string", False, pattern=schema["properties"]["timestamp"]["pattern"]
    )
    assert config.passthrough_fields == ("sent_at",)


def test_a_required_or_non_string_sent_at_is_refused() -> None:
    rules = rules_from_schema(contract.event_schema())
    required = tuple(
        FieldRule(r.name, r.type, True, pattern=r.pattern) if r.name == "sent_at" else r
        for r in rules
    )
    with pytest.raises(SmartgridError, match="sent_at"):
        ValidationConfig(fields=required)
    with pytest.raises(SmartgridError, match="sent_at"):
        ValidationConfig(sent_at_field="timestamp")
    assert ValidationConfig(sent_at_field=None).passthrough_fields == ()


def test_quarantined_sent_at_reasons_reach_the_quarantine_table(spark) -> None:
    bad = sent("2025-01-01T00:01:05Z")
    quarantine = to_quarantine(check(events(spark, [bad])))
    row = quarantine.select("reasons", F.col("body")).collect()
    assert [(list(r.reasons), r.body) for r in row] == [(["bad_format:sent_at"], bad)]


def test_simulated_conflicting_resends_pass_the_ingest_with_their_sent_at(spark) -> None:
    """Producer to ingest: a simulated run with the conflict fault is valid throughout, and
    each resend reaches the validated rows with its sent_at in extra_fields, where staging
    reads it (stg_meter_events__readings), next to its original without one."""
    from producer.faults import FaultInjector, FaultSpec
    from producer.fleet import build_fleet
    from producer.simulator import Simulation
    from smartgrid.durations import epoch_ms

    fleet = build_fleet(8, seed=3)
    start = datetime(2025, 6, 2, tzinfo=timezone.utc)
    simulation = Simulation(fleet, start_ms=epoch_ms(start), interval_ms=900_000, steps=24, seed=3)
    injector = FaultInjector(
        FaultSpec(conflict=0.1), 3, meters=8, interval_seconds=900.0, nominal_voltage=230.0
    )
    lines: list[bytes] = []
    for block in simulation.blocks():
        lines.extend(injector.apply(block.batch, block.first_step)[0].bodies())
    lines.extend(injector.drain().bodies())
    resends = sum(1 for line in lines if b'"sent_at"' in line)
    assert resends == injector.counts["conflict"] > 0

    checked = check(events(spark, [line.decode() for line in lines])).cache()
    assert to_quarantine(checked).count() == 0
    rows = to_validated(checked).select("meter_id", "timestamp", "real_power_watts", "extra_fields")
    by_key: dict[tuple, list] = {}
    for row in rows.collect():
        sent_at = json.loads(row.extra_fields)["sent_at"] if row.extra_fields else None
        by_key.setdefault((row.meter_id, row.timestamp), []).append((sent_at, row.real_power_watts))
    conflicting = {key: v for key, v in by_key.items() if len(v) > 1}
    assert len(conflicting) == resends
    for versions in conflicting.values():
        (none, first_watts), (sent_at, second_watts) = sorted(versions, key=lambda v: v[0] or "")
        assert none is None and sent_at is not None and first_watts != second_watts
    checked.unpersist()
