"""What an event must be to pass the ingest's validation: rules derived from the event contract.

``ValidationConfig`` is a frozen dataclass checked when it is built (a bad threshold is refused
before Spark starts). Its field rules default to the contract's properties
(smartgrid/event.schema.json), so the contract stays the single definition.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal

from smartgrid import contract
from smartgrid.errors import SmartgridError

# A meter reading is a few hundred bytes; anything this large is not one (and is not parsed).
DEFAULT_MAX_BODY_BYTES = 64 * 1024
# Meter clocks drift; readings a little ahead of the ingest clock are still accepted.
DEFAULT_MAX_FUTURE_SKEW_SECONDS = 300.0
# No smart meter in service reads before this: older readings are a reset clock (1970, 1900),
# and one of them in the curated data distorts a rolling average years away.
DEFAULT_OLDEST_TIMESTAMP = datetime(2000, 1, 1, tzinfo=timezone.utc)
# Spark's IntegerType bound, for contract integers that have no maximum of their own.
INT32_MAX = 2**31 - 1

FieldType = Literal["string", "number", "integer"]


@dataclass(frozen=True)
class FieldRule:
    """What one field of the contract must be. ``pattern`` is the contract's ECMA-262 regex."""

    name: str
    type: FieldType
    required: bool
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    max_length: int | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.name):
            raise SmartgridError(f"validation: field name {self.name!r} is not a plain identifier")
        if self.type not in ("string", "number", "integer"):
            raise SmartgridError(f"validation: field {self.name}: unsupported type {self.type!r}")
        for bound in (self.minimum, self.maximum):
            if bound is not None and not math.isfinite(bound):
                raise SmartgridError(f"validation: field {self.name}: bounds must be finite")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise SmartgridError(
                f"validation: field {self.name}: minimum {self.minimum} > maximum {self.maximum}"
            )
        if self.max_length is not None and self.max_length < 0:
            raise SmartgridError(f"validation: field {self.name}: maxLength must be >= 0")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise SmartgridError(
                    f"validation: field {self.name}: bad pattern {self.pattern!r}: {exc}"
                ) from exc


def rules_from_schema(schema: Mapping[str, Any]) -> tuple[FieldRule, ...]:
    """One FieldRule per property of a JSON Schema (the subset the contract uses)."""
    required = set(schema.get("required", ()))
    rules = []
    for name, prop in schema["properties"].items():
        kind = prop.get("type")
        if kind not in ("string", "number", "integer"):
            raise SmartgridError(f"contract: property {name!r} has unsupported type {kind!r}")
        maximum = prop.get("maximum")
        if kind == "integer" and maximum is None:
            maximum = INT32_MAX  # the validated table stores integers as IntegerType
        rules.append(
            FieldRule(
                name=name,
                type=kind,
                required=name in required,
                minimum=prop.get("minimum"),
                maximum=maximum,
                pattern=prop.get("pattern"),
                max_length=prop.get("maxLength"),
            )
        )
    unknown = required - {r.name for r in rules}
    if unknown:
        raise SmartgridError(f"contract: required fields without a definition: {sorted(unknown)}")
    return tuple(rules)


@dataclass(frozen=True)
class ValidationConfig:
    """Thresholds of every validation rule, in one place.

    ``fields`` defaults to the contract's properties (types, required, ranges, patterns);
    replace a rule with ``with_range`` for a grid with other plausibility bounds.
    """

    fields: tuple[FieldRule, ...] = field(
        default_factory=lambda: rules_from_schema(contract.event_schema())
    )
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_future_skew_seconds: float = DEFAULT_MAX_FUTURE_SKEW_SECONDS
    # Readings before this instant are quarantined as too_old_timestamp (None: no lower bound).
    oldest_timestamp: datetime | None = DEFAULT_OLDEST_TIMESTAMP
    # Fields with a reason code of their own (instead of the generic bad_format:<name>).
    timestamp_field: str = "timestamp"
    meter_id_field: str = "meter_id"
    # The optional producer-side send time (when the contract has it): checked like an instant
    # (bad_format:<name>; out_of_range:<name> when later than the ingest time or earlier than
    # the reading's timestamp, beyond ``max_future_skew_seconds``). A valid one is kept among
    # the validated row's ``extra_fields`` as received, where dbt's staging reads it (no column
    # of its own: the validated table's schema, and so existing lakes, stay as they are).
    sent_at_field: str | None = "sent_at"
    # Decide plain, flat events with one cheap parse and fall back to the full Variant checks
    # for the rest (see ingest.validation). Off: every event takes the full checks; the
    # verdicts are the same either way, which the tests check.
    fast_path: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.max_body_bytes, int) or self.max_body_bytes <= 0:
            raise SmartgridError(
                f"--max-body-bytes must be a positive integer, got {self.max_body_bytes!r}"
            )
        if not math.isfinite(self.max_future_skew_seconds) or self.max_future_skew_seconds < 0:
            raise SmartgridError(
                "--max-future-skew must be zero or more seconds, "
                f"got {self.max_future_skew_seconds!r}"
            )
        if self.oldest_timestamp is not None and (
            not isinstance(self.oldest_timestamp, datetime)
            or self.oldest_timestamp.utcoffset() is None
        ):
            raise SmartgridError(
                "--oldest-timestamp must be an instant with a time zone, "
                f"got {self.oldest_timestamp!r}"
            )
        names = [rule.name for rule in self.fields]
        if len(set(names)) != len(names):
            raise SmartgridError(f"validation: duplicate field rules in {names}")
        by_name = self.by_name
        ts = by_name.get(self.timestamp_field)
        if ts is None or ts.type != "string" or not ts.required:
            raise SmartgridError(
                f"validation: timestamp field {self.timestamp_field!r} must be a required string"
            )

        if self.sent_at_field is not None and self.sent_at_field in by_name:
            sent = by_name[self.sent_at_field]
            if sent.type != "string" or sent.required or self.sent_at_field == ts.name:
                raise SmartgridError(
                    f"validation: sent_at field {self.sent_at_field!r} must be an optional "
                    "string other than the timestamp"
                )

    @property
    def sent_at_rule(self) -> FieldRule | None:
        """The send-time field's rule, when the contract has one."""
        if self.sent_at_field is None:
            return None
        return self.by_name.get(self.sent_at_field)

    @property
    def passthrough_fields(self) -> tuple[str, ...]:
        """Contract fields checked here but kept in ``extra_fields`` (no column of their own)."""
        rule = self.sent_at_rule
        return () if rule is None else (rule.name,)

    @property
    def by_name(self) -> dict[str, FieldRule]:
        return {rule.name: rule for rule in self.fields}

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.fields)

    def with_range(
        self, name: str, minimum: float | None, maximum: float | None
    ) -> ValidationConfig:
        rules = self.by_name
        if name not in rules:
            raise SmartgridError(f"validation: no field {name!r} in the contract")
        new = replace(rules[name], minimum=minimum, maximum=maximum)
        return replace(self, fields=tuple(new if r.name == name else r for r in self.fields))
