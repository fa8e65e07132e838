"""Configuration of the ingest job: where it reads, where it writes, and what it accepts.

Two frozen dataclasses, checked when they are built so that a bad option is refused before
Spark starts:

- ``IngestConfig``: source (local landing directory or Kafka / Event Hubs), trigger, rate limits,
  table and checkpoint locations (defaults from the ``Lake``; any of them may be an abfss:// URI).
- ``ValidationConfig``: the rules an event must pass. Its defaults are derived from the event
  contract (smartgrid/event.schema.json), so the contract stays the single definition.
"""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from smartgrid import contract
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

SOURCES = ("local", "kafka")
TRIGGERS = ("available-now", "continuous")
STARTING_OFFSETS = ("earliest", "latest")

DEFAULT_INTERVAL_SECONDS = 5.0
# A meter reading is a few hundred bytes; anything this large is not one (and is not parsed).
DEFAULT_MAX_BODY_BYTES = 64 * 1024
# Meter clocks drift; readings a little ahead of the ingest clock are still accepted.
DEFAULT_MAX_FUTURE_SKEW_SECONDS = 300.0
# Spark's IntegerType bound, for contract integers that have no maximum of their own.
INT32_MAX = 2**31 - 1

FieldType = Literal["string", "number", "integer"]


class Secret:
    """A string that never shows itself in repr/str/logs; ``reveal()`` hands it to Spark only."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(
            self._value.encode(), other._value.encode()
        )

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:  # refuse to be pickled to disk by accident
        raise TypeError("a Secret is not picklable")


def reveal(value: str | Secret) -> str:
    return value.reveal() if isinstance(value, Secret) else value


# --------------------------------------------------------------------------------------------
# Validation rules, derived from the contract
# --------------------------------------------------------------------------------------------


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
    # Fields with a reason code of their own (instead of the generic bad_format:<name>).
    timestamp_field: str = "timestamp"
    meter_id_field: str = "meter_id"
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
        names = [rule.name for rule in self.fields]
        if len(set(names)) != len(names):
            raise SmartgridError(f"validation: duplicate field rules in {names}")
        by_name = self.by_name
        ts = by_name.get(self.timestamp_field)
        if ts is None or ts.type != "string" or not ts.required:
            raise SmartgridError(
                f"validation: timestamp field {self.timestamp_field!r} must be a required string"
            )

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


# --------------------------------------------------------------------------------------------
# The job
# --------------------------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")
_UNIT_SECONDS = {
    **dict.fromkeys(("ms", "millisecond", "milliseconds"), 0.001),
    **dict.fromkeys(("", "s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hour", "hours"), 3600.0),
}


def parse_duration(text: str, option: str = "--interval") -> float:
    """'5s', '500ms', '2m', '10 seconds', '1.5' (seconds) -> seconds."""
    match = _DURATION.match(str(text).lower())
    if not match or match.group(2) not in _UNIT_SECONDS:
        raise SmartgridError(
            f"{option}: cannot read {text!r} as a duration (examples: 5s, 500ms, 2m)"
        )
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@dataclass(frozen=True)
class IngestConfig:
    """Everything the ingest job needs; refused at construction when inconsistent."""

    lake: Lake
    source: str = "local"
    trigger: str = "available-now"
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS
    max_files_per_trigger: int | None = None
    max_offsets_per_trigger: int | None = None
    starting_offsets: str | None = None  # kafka only; default earliest
    # Locations; None means the lake's default (see the properties below).
    landing_path: str | None = None
    raw_path: str | None = None
    validated_path: str | None = None
    quarantine_path: str | None = None
    checkpoint_path: str | None = None
    # Kafka / Event Hubs.
    kafka_bootstrap: str | None = None
    topic: str | None = None
    kafka_options: tuple[tuple[str, str | Secret], ...] = ()
    # Spark: driver memory for a job that starts its own session (None: SMARTGRID_DRIVER_MEMORY).
    driver_memory: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.lake, Lake):
            raise SmartgridError("IngestConfig.lake must be a smartgrid.lake.Lake")
        if self.source not in SOURCES:
            raise SmartgridError(
                f"--source must be one of {', '.join(SOURCES)}, got {self.source!r}"
            )
        if self.trigger not in TRIGGERS:
            raise SmartgridError(
                f"--trigger must be one of {', '.join(TRIGGERS)}, got {self.trigger!r}"
            )
        if not (math.isfinite(self.interval_seconds) and self.interval_seconds > 0):
            raise SmartgridError(f"--interval must be positive, got {self.interval_seconds!r}")
        for option, value in (
            ("--max-files-per-trigger", self.max_files_per_trigger),
            ("--max-offsets-per-trigger", self.max_offsets_per_trigger),
        ):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise SmartgridError(f"{option} must be a positive integer, got {value!r}")
        if self.source == "local":
            if self.max_offsets_per_trigger is not None:
                raise SmartgridError(
                    "--max-offsets-per-trigger applies to --source kafka; "
                    "use --max-files-per-trigger"
                )
            for option, value in (
                ("--starting-offsets", self.starting_offsets),
                ("--kafka-bootstrap", self.kafka_bootstrap),
                ("--topic", self.topic),
            ):
                if value is not None:
                    raise SmartgridError(f"{option} applies to --source kafka only")
        else:
            if self.max_files_per_trigger is not None:
                raise SmartgridError(
                    "--max-files-per-trigger applies to --source local; "
                    "use --max-offsets-per-trigger"
                )
            if not self.kafka_bootstrap:
                raise SmartgridError(
                    "--source kafka needs --kafka-bootstrap HOST:PORT, or EVENTHUB_CONNECTION_STR "
                    "(and EVENTHUB_NAMESPACE) for Azure Event Hubs"
                )
            if not self.topic:
                raise SmartgridError(
                    "--source kafka needs --topic (the event hub name; or set EVENTHUB_NAME)"
                )
            offsets = self.starting_offsets
            if (
                offsets is not None
                and offsets not in STARTING_OFFSETS
                and not offsets.lstrip().startswith("{")
            ):
                raise SmartgridError(
                    "--starting-offsets must be earliest, latest or a JSON object of offsets, "
                    f"got {offsets!r}"
                )
        paths = {
            "raw": self.raw,
            "validated": self.validated,
            "quarantine": self.quarantine,
            "checkpoint": self.checkpoint,
        }
        if len(set(paths.values())) != len(paths):
            raise SmartgridError(f"table and checkpoint locations must differ: {paths}")

    # Resolved locations.
    @property
    def landing(self) -> str:
        return self.landing_path or self.lake.landing

    @property
    def raw(self) -> str:
        return self.raw_path or self.lake.raw

    @property
    def validated(self) -> str:
        return self.validated_path or self.lake.validated

    @property
    def quarantine(self) -> str:
        return self.quarantine_path or self.lake.quarantine

    @property
    def checkpoint(self) -> str:
        # One checkpoint per source: a Kafka run must not resume from a file source's offsets.
        return self.checkpoint_path or self.lake.path("checkpoints", "ingest", self.source)

    @property
    def spark_trigger(self) -> dict[str, Any]:
        if self.trigger == "available-now":
            return {"availableNow": True}
        return {"processingTime": f"{round(self.interval_seconds * 1000)} milliseconds"}

    def kafka_reader_options(self) -> dict[str, str]:
        """The Kafka source options, secrets revealed: pass straight to Spark, never log."""
        options = {
            "kafka.bootstrap.servers": self.kafka_bootstrap or "",
            "subscribe": self.topic or "",
            "startingOffsets": self.starting_offsets or "earliest",
            # Retention can drop events before a stopped job restarts: fail loudly, not silently.
            "failOnDataLoss": "true",
        }
        if self.max_offsets_per_trigger is not None:
            options["maxOffsetsPerTrigger"] = str(self.max_offsets_per_trigger)
        options.update({key: reveal(value) for key, value in self.kafka_options})
        return options
