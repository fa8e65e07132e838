"""Validation rules: pure DataFrame -> DataFrame functions, Spark built-ins only (no Python UDFs).

Input: a DataFrame with ``body`` (the event as received) and the lineage columns of
``ingest.tables``. ``check`` adds one array column ``reasons`` (empty when the event passes)
plus the typed contract fields; ``to_validated`` / ``to_quarantine`` / ``to_raw`` project it
onto the three table schemas. Every input row lands in exactly one of validated (no reason)
or quarantine (one or more reasons).

Reason codes (a row gets every one that applies, in this order):

  too_large                 body longer than ``max_body_bytes`` UTF-8 bytes (not parsed further)
  not_json                  not a JSON text (also NaN/Infinity, which JSON does not have)
  duplicate_key             a JSON object naming the same top-level field twice
  not_object                valid JSON that is not an object (array, string, number, null...)
  missing_field:<name>      a required field is absent
  bad_type:<name>           wrong JSON type (a string where a number is expected, a number
                            where a string is expected, null, 1.5 for an integer, ...)
  out_of_range:<name>       a number outside the contract's [minimum, maximum]; for the
                            optional ``sent_at`` (ValidationConfig.sent_at_field), an instant
                            later than ``now`` or earlier than the reading's ``timestamp``, by
                            more than ``max_future_skew_seconds``
  bad_timestamp             not the contract's ``YYYY-MM-DDTHH:MM:SS.mmmZ`` or not a real instant
  future_timestamp          later than ``now`` + ``max_future_skew_seconds``
  too_old_timestamp         earlier than ``oldest_timestamp`` (default 2000-01-01T00:00:00Z)
  invalid_utf8              the bytes received are not valid UTF-8 (raw keeps them exactly)
  bad_meter_id              meter_id does not match the contract's pattern
  bad_format:<name>         another string field does not match its pattern (``sent_at``: or
                            is not a real instant, like ``bad_timestamp``)
  too_long:<name>           a string longer than its maxLength (in characters)

Parsing uses ``try_parse_json`` (Variant): exact JSON types, strict syntax. That parse and
its per-field lookups cost several times a plain JSON read, so events are first offered to a
fast path (``ValidationConfig.fast_path``): an event whose body is a *flat* JSON object -- no
whitespace, no nesting, no escapes, only strings and numbers, each member a contract field
named once, the string fields strings and the number fields numbers -- is read with one
``from_json`` into typed columns. For such a body that one read sees exactly what the Variant
would, so the field rules below run on its values and give the same verdict and the same typed
row; every other body (about 1% from a real producer: the malformed ones, extra fields,
pretty-printed JSON) takes the Variant path. ``tests/ingest`` checks both paths agree.

``now`` is the batch's ``ingest_time`` when present, so a retried micro-batch makes the same
decisions as the first attempt (see ingest.writer).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StringType, StructField, StructType

from ingest.rules import FieldRule, ValidationConfig
from ingest.tables import (
    QUARANTINE_SCHEMA,
    RAW_SCHEMA,
    VALIDATED_SCHEMA,
)

REASONS = "reasons"
EXTRA_FIELDS = "extra_fields"

_V = "_sg_v"  # the parsed body (Variant)
_W = "_sg_wrapped"
_SENTINEL = "smartgrid:end-of-body:5f0c"
_NOW = "_sg_now"
_INVALID_UTF8 = "_sg_invalid_utf8"
BODY_BYTES = "body_bytes"
_TOO_LARGE = "_sg_too_large"
_IS_OBJECT = "_sg_is_object"
_FAST = "_sg_fast"  # the typed struct of a flat body (null: not flat)
_CERTIFIED = "_sg_certified"  # the fast path decides this row
_KEYS = "_sg_keys"
_Q_METER_ID = "_sg_q_meter_id"
_Q_EVENT_TIMESTAMP = "_sg_q_event_timestamp"

_NUMERIC_TYPES = ("BIGINT", "DOUBLE", "FLOAT")

# The fast path's bodies: a flat JSON object -- no whitespace, no nesting, no escapes, no null --
# whose members are contract fields, each with a value of its rule's JSON type (an
# escape-free string, or a number). Unknown members, nulls and anything else do not match.
_FLAT_STRING = r'"[^"\\\x00-\x1f]*"'
_FLAT_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
# Bodies longer than this take the Variant path: it bounds the regex's work (Java's engine
# recurses per repetition) far above a meter reading's few hundred characters.
FAST_PATH_MAX_BYTES = 2048
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def ecma_to_java_regex(pattern: str) -> str:
    """Translate a JSON Schema (ECMA-262) pattern for Java's regex engine (``rlike``).

    The one difference that matters for the contract: without the multiline flag ECMA's ``$``
    matches only at the very end, while Java's (and Python's) also matches before a final line
    terminator, which would let ``"MTR-1\\n"`` through. ``$`` becomes ``\\z``.
    """
    out, escaped, in_class = [], False, False
    for char in pattern:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char == "[":
            in_class = True
            out.append(char)
        elif char == "]":
            in_class = False
            out.append(char)
        elif char == "$" and not in_class:
            out.append("\\z")
        else:
            out.append(char)
    return "".join(out)


def _col(prefix: str, name: str) -> str:
    return f"_sg_{prefix}_{name}"


def _is_number(json_type: Column) -> Column:
    return json_type.isin(*_NUMERIC_TYPES) | json_type.startswith("DECIMAL")


def _tag(condition: Column, code: str) -> Column:
    # The code when the condition holds, else null; concat_ws below skips the nulls. (Cheaper
    # than an array per rule, and array_compact/filter are higher-order functions that Spark
    # evaluates row by row, outside generated code.)
    return F.when(condition, F.lit(code))


def _field_values(rule: FieldRule) -> list[Column]:
    """Stage 3: whether the field is present, and its typed value (string or double) or null.

    A certified row takes both from the fast read, any other from the Variant lookups.
    """
    fast = F.col(_FAST)[rule.name]
    certified = F.col(_CERTIFIED)
    value = F.col(_col("f", rule.name))
    json_type = F.col(_col("t", rule.name))
    if rule.type == "string":
        typed = F.when(json_type == "STRING", F.variant_get(value, "$", "string"))
    else:
        typed = F.when(_is_number(json_type), F.variant_get(value, "$", "double"))
    return [
        F.when(certified, fast.isNotNull())
        .otherwise(value.isNotNull())
        .alias(_col("present", rule.name)),
        F.when(certified, fast).otherwise(typed).alias(_col("x", rule.name)),
    ]


def _fast_path_enabled(config: ValidationConfig) -> bool:
    # The pattern below names the fields verbatim.
    return config.fast_path and all(_PLAIN_NAME.fullmatch(r.name) for r in config.fields)


def flat_object_pattern(config: ValidationConfig) -> str:
    """The (Java) regex of the bodies the fast path may decide."""
    members = "|".join(
        f'"{rule.name}":' + (_FLAT_STRING if rule.type == "string" else _FLAT_NUMBER)
        for rule in config.fields
    )
    member = f"(?:{members})"
    return rf"\A\{{(?:{member}(?:,{member})*+)?\}}\z"


def _fast_schema(config: ValidationConfig) -> StructType:
    return StructType(
        [
            StructField(r.name, StringType() if r.type == "string" else DoubleType())
            for r in config.fields
        ]
    )


def _certified(body: Column, fast: Column, config: ValidationConfig) -> Column:
    """True when the fast read of a matching body sees exactly what the Variant parse would.

    The body matched ``flat_object_pattern`` (``fast`` is only read for those), so it is one
    valid JSON object of contract fields with values of the right JSON types, and ``":``
    occurs once per member (a double quote only ever delimits a key or a string). What the
    pattern cannot see is a field named twice, which ``from_json`` would silently read as the
    last one: so the members counted must equal the fields read. Numbers must also be finite:
    an overflowing literal is left to the Variant path to judge.
    """
    # (Byte lengths: a UTF-8 string knows its byte length; counting characters is a scan.)
    members = (F.octet_length(body) - F.octet_length(F.replace(body, F.lit('":'), F.lit("")))) / 2
    read = F.lit(0)
    certified = fast.isNotNull()
    for rule in config.fields:
        value = fast[rule.name]
        read = read + value.isNotNull().cast("int")
        if rule.type != "string":
            certified = certified & (value.isNull() | ~value.isin(float("inf"), float("-inf")))
    return F.coalesce(certified & (members == read), F.lit(False))


def _field_checks(rule: FieldRule, config: ValidationConfig) -> tuple[list[Column], Column]:
    """(reason codes, typed output value) of one field of an object body, on either path."""
    present = F.col(_col("present", rule.name))
    value = F.col(_col("x", rule.name))
    reasons: list[Column] = []
    if rule.required:
        reasons.append(_tag(~present, f"missing_field:{rule.name}"))

    if rule.type == "string":
        type_ok = value.isNotNull()
        reasons.append(_tag(present & ~type_ok, f"bad_type:{rule.name}"))
        pattern_ok = F.col(_col("p", rule.name)) if rule.pattern else F.lit(True)
        if rule.name == config.timestamp_field:
            parsed = F.col(_col("ts", rule.name))
            good = type_ok & pattern_ok & parsed.isNotNull()
            reasons.append(_tag(type_ok & ~good, "bad_timestamp"))
            skew_micros = round(config.max_future_skew_seconds * 1_000_000)
            reasons.append(
                _tag(
                    good & (F.unix_micros(parsed) > F.unix_micros(F.col(_NOW)) + skew_micros),
                    "future_timestamp",
                )
            )
            if config.oldest_timestamp is not None:
                oldest = config.oldest_timestamp - datetime(1970, 1, 1, tzinfo=timezone.utc)
                oldest_micros = oldest // timedelta(microseconds=1)
                reasons.append(
                    _tag(good & (F.unix_micros(parsed) < oldest_micros), "too_old_timestamp")
                )
            return reasons, F.when(good, parsed)
        if rule.name == config.sent_at_field:
            # The producer's send time: a real instant in the contract's form, not after the
            # ingest clock and not before the reading itself (beyond the clock skew allowed).
            sent = F.col(_col("ts", rule.name))
            good = type_ok & pattern_ok & sent.isNotNull()
            reasons.append(_tag(type_ok & ~good, f"bad_format:{rule.name}"))
            skew_micros = round(config.max_future_skew_seconds * 1_000_000)
            sent_micros = F.unix_micros(sent)
            reading_micros = F.unix_micros(F.col(_col("ts", config.timestamp_field)))
            too_late = sent_micros > F.unix_micros(F.col(_NOW)) + skew_micros
            too_early = sent_micros < reading_micros - skew_micros  # null: no reading time
            reasons.append(
                _tag(
                    good & (too_late | F.coalesce(too_early, F.lit(False))),
                    f"out_of_range:{rule.name}",
                )
            )
            return reasons, value
        code = "bad_meter_id" if rule.name == config.meter_id_field else f"bad_format:{rule.name}"
        reasons.append(_tag(type_ok & ~pattern_ok, code))
        if rule.max_length is not None:
            reasons.append(
                _tag(type_ok & (F.length(value) > rule.max_length), f"too_long:{rule.name}")
            )
        return reasons, value

    type_ok = value.isNotNull()
    if rule.type == "integer":
        # JSON Schema: an integer is any number with a zero fractional part (1 and 1.0).
        type_ok = type_ok & F.coalesce(value == F.floor(value), F.lit(False))
    reasons.append(_tag(present & ~type_ok, f"bad_type:{rule.name}"))
    out_of_range = value.isin(float("inf"), float("-inf"))
    if rule.minimum is not None:
        out_of_range = out_of_range | (value < F.lit(float(rule.minimum)))
    if rule.maximum is not None:
        out_of_range = out_of_range | (value > F.lit(float(rule.maximum)))
    reasons.append(_tag(type_ok & out_of_range, f"out_of_range:{rule.name}"))
    if rule.type == "integer":
        return reasons, F.when(type_ok & ~out_of_range, value.cast("int"))
    return reasons, value


def prepare(
    events: DataFrame, config: ValidationConfig | None = None, *, now: Column | None = None
) -> DataFrame:
    """``events`` plus what the checks start from: the clock, the size guard, the fast read.

    ``now`` defaults to the ``ingest_time`` column (the micro-batch's timestamp), or the
    current time when there is none.
    """
    config = config or ValidationConfig()
    if now is None:
        now = F.col("ingest_time") if "ingest_time" in events.columns else F.current_timestamp()
    body = F.col("body")
    too_large = F.coalesce(F.octet_length(body) > config.max_body_bytes, F.lit(False))
    # The bytes as received are not UTF-8: ``body`` (their UTF-8 text, U+FFFD for what does
    # not decode) does not encode back to them.
    invalid_utf8 = (
        F.coalesce(F.encode(body, "UTF-8") != F.col(BODY_BYTES), F.lit(False))
        if BODY_BYTES in events.columns
        else F.lit(False)
    )
    stage = events.select(
        "*", now.alias(_NOW), too_large.alias(_TOO_LARGE), invalid_utf8.alias(_INVALID_UTF8)
    )
    if not _fast_path_enabled(config):
        return stage.select(
            "*",
            F.lit(None).cast(_fast_schema(config)).alias(_FAST),
            F.lit(False).alias(_CERTIFIED),
        )
    matches = (
        ~F.col(_TOO_LARGE)
        & (F.octet_length(body) <= FAST_PATH_MAX_BYTES)
        & body.rlike(flat_object_pattern(config))
        & ~body.contains(_SENTINEL)
    )
    stage = stage.select("*", F.when(matches, F.from_json(body, _fast_schema(config))).alias(_FAST))
    return stage.select("*", _certified(body, F.col(_FAST), config).alias(_CERTIFIED))


def check(
    events: DataFrame, config: ValidationConfig | None = None, *, now: Column | None = None
) -> DataFrame:
    """Add ``reasons`` (empty array: valid) and the typed contract fields to ``events``.

    One pass: a certified row (see ``prepare``) takes the values of the fast read; every other
    row is parsed as a Variant and looked up field by field. The Variant expressions are
    guarded by ``not certified``, so the fast rows skip them, and both kinds of row then go
    through the same field rules. Built in stages (one projection each) so that every costly
    expression -- the parse, each field lookup, each type test -- is computed once per row and
    then referenced: Spark does not inline a non-trivial expression into a projection that
    uses it more than once.
    """
    config = config or ValidationConfig()
    prepared = prepare(events, config, now=now)
    events_columns = [c for c in prepared.columns if not c.startswith("_sg_")]
    rules = config.fields
    body = F.col("body")
    certified = F.col(_CERTIFIED)
    carried = [*events_columns, _NOW, _TOO_LARGE, _INVALID_UTF8, _FAST, _CERTIFIED]
    # Spark's JSON parsers stop after the first value and ignore what follows ('{"a":1} x'
    # parses), so the body is parsed as the first element of [<body>,"<sentinel>"]: it is one
    # JSON text exactly when that array has two elements and the second is the sentinel (a body
    # containing the sentinel is refused outright).
    wrapped = F.concat(F.lit("["), body, F.lit(f',"{_SENTINEL}"]'))
    parse = ~certified & ~F.col(_TOO_LARGE) & ~body.contains(_SENTINEL)
    stage = prepared.select(*carried, F.when(parse, F.try_parse_json(wrapped)).alias(_W))
    w = F.col(_W)
    single_value = (F.try_variant_get(w, "$[1]", "string") == _SENTINEL) & F.try_variant_get(
        w, "$[2]", "variant"
    ).isNull()
    stage = stage.select(
        *carried, F.when(single_value, F.try_variant_get(w, "$[0]", "variant")).alias(_V)
    )
    v = F.col(_V)
    # Object test and one lookup per contract field (SQL null when absent, a Variant null --
    # JSON type VOID -- when present as null).
    is_object = certified | (
        v.isNotNull()
        & F.when(F.substring(body, 1, 1) == "{", F.lit(True)).otherwise(
            body.rlike(r"^[ \t\r\n]*\{")
        )
    )
    stage = stage.select(
        "*",
        is_object.alias(_IS_OBJECT),
        *[
            F.try_variant_get(v, f"$.{rule.name}", "variant").alias(_col("f", rule.name))
            for rule in rules
        ],
    )
    stage = stage.select(
        "*",
        *[F.schema_of_variant(_col("f", rule.name)).alias(_col("t", rule.name)) for rule in rules],
    )
    stage = stage.select("*", *[c for rule in rules for c in _field_values(rule)])
    # Only for bodies that failed to parse (it is one more parse): tell a duplicated top-level
    # key from broken JSON.
    not_json = ~certified & ~F.col(_TOO_LARGE) & v.isNull()
    stage = stage.select("*", F.when(not_json, F.json_object_keys(body)).alias(_KEYS))
    keys = F.col(_KEYS)
    duplicate_key = not_json & F.coalesce(
        F.size(F.array_distinct(keys)) < F.size(keys), F.lit(False)
    )
    reasons = [
        _tag(F.col(_INVALID_UTF8), "invalid_utf8"),
        _tag(F.col(_TOO_LARGE), "too_large"),
        _tag(not_json & ~duplicate_key, "not_json"),
        _tag(duplicate_key, "duplicate_key"),
        _tag(v.isNotNull() & ~F.col(_IS_OBJECT), "not_object"),
    ]
    # Unknown fields are kept, and so are the contract's pass-through fields (sent_at), which
    # have no column of their own. The key comparison is code-generated; the (interpreted)
    # map_filter runs only for the rare valid rows that do have extra fields. A certified body
    # has no unknown field: its extras are its pass-through fields, written as the Variant
    # path writes them (a flat string holds no character JSON would escape).
    passthrough = config.passthrough_fields
    members = v.try_cast("map<string,variant>")
    known = F.array(*[F.lit(name) for name in config.field_names if name not in passthrough])
    has_extras = F.size(F.array_except(F.map_keys(members), known)) > 0
    extras = F.map_filter(members, lambda key, _value: ~F.array_contains(known, key))
    # (sorted: the Variant path's order; concat_ws skips the absent ones)
    fast_members = F.concat_ws(
        ",",
        *[
            F.concat(F.lit(f'"{name}":"'), F.col(_FAST)[name], F.lit('"'))
            for name in sorted(passthrough)
        ],
    )
    certified_extras = F.when(fast_members != "", F.concat(F.lit("{"), fast_members, F.lit("}")))

    def text(name: str) -> Column:
        # Certified: the field is a JSON string when present, as the Variant path reads it.
        return F.when(certified, F.col(_FAST)[name]).otherwise(
            F.try_variant_get(v, f"$.{name}", "string")
        )

    # The field rules, on the present/x columns of either kind of row.
    derived = []
    for rule in rules:
        if rule.type == "string" and rule.pattern:
            derived.append(
                F.col(_col("x", rule.name))
                .rlike(ecma_to_java_regex(rule.pattern))
                .alias(_col("p", rule.name))
            )
        if rule.name in (config.timestamp_field, config.sent_at_field):
            # The pattern fixes the form; the cast rejects what is not a real instant
            # (2025-02-30, 24:00, leap seconds).
            derived.append(
                F.col(_col("x", rule.name)).try_cast("timestamp").alias(_col("ts", rule.name))
            )
    stage = stage.select("*", *derived)

    typed: dict[str, Column] = {}
    for rule in rules:
        field_reasons, value = _field_checks(rule, config)
        reasons.extend(F.when(F.col(_IS_OBJECT), r) for r in field_reasons)
        typed[rule.name] = value
    joined = F.concat_ws(",", *reasons)  # reason codes hold no comma
    stage = stage.select(
        "*",
        F.when(joined == "", F.array().cast("array<string>"))
        .otherwise(F.split(joined, ",", -1))
        .alias(REASONS),
    )
    valid = F.size(F.col(REASONS)) == 0
    return stage.select(
        *events_columns,
        REASONS,
        *[value.alias(name) for name, value in typed.items()],
        F.when(valid & ~certified & has_extras, F.to_json(extras))
        .when(valid & certified, certified_extras)
        .alias(EXTRA_FIELDS),
        F.when(~valid, text(config.meter_id_field)).alias(_Q_METER_ID),
        F.when(~valid, text(config.timestamp_field)).alias(_Q_EVENT_TIMESTAMP),
    )


def _project(df: DataFrame, schema, renames: dict[str, str] | None = None) -> DataFrame:
    renames = renames or {}
    types = {f.name: f.dataType for f in df.schema.fields}
    columns = []
    for f in schema.fields:
        source = renames.get(f.name, f.name)
        column = F.col(source)
        # Cast only real type changes: nullability (array<string> vs. array<string not null>)
        # is not a cast, and Delta enforces the NOT NULL columns on write.
        if types[source].simpleString() != f.dataType.simpleString():
            column = column.cast(f.dataType)
        columns.append(column.alias(f.name))
    return df.select(*columns)


def to_raw(events: DataFrame) -> DataFrame:
    """The raw table's rows: every event exactly as received.

    Events without ``body_bytes`` (built from text) take their body's UTF-8 bytes.
    """
    if BODY_BYTES not in events.columns:
        events = events.withColumn(BODY_BYTES, F.encode("body", "UTF-8"))
    return _project(events, RAW_SCHEMA)


def to_validated(checked: DataFrame) -> DataFrame:
    return _project(checked.where(F.size(REASONS) == 0), VALIDATED_SCHEMA)


def to_quarantine(checked: DataFrame) -> DataFrame:
    return _project(
        checked.where(F.size(REASONS) > 0),
        QUARANTINE_SCHEMA,
        {"meter_id": _Q_METER_ID, "event_timestamp": _Q_EVENT_TIMESTAMP},
    )


def validate(
    events: DataFrame, config: ValidationConfig | None = None, *, now: Column | None = None
) -> tuple[DataFrame, DataFrame]:
    """(validated, quarantine) rows of ``events``."""
    checked = check(events, config, now=now)
    return to_validated(checked), to_quarantine(checked)
