"""Fault injection: duplicates, late events, malformed bodies, voltage sags and swells, conflicts.

Off by default. ``--faults duplicate=0.01,late=0.01,malformed=0.005,voltage=0.002`` makes each
kind a fraction of the generated readings; the kinds are exclusive per reading (their sum is at
most 1), chosen by a seeded generator of their own so that turning faults on does not change the
clean readings. Downstream stages test against these:

- ``duplicate``: the reading is sent again, a few readings later, with the same body and event_id.
- ``late``: the reading is held back and sent after readings of later intervals (out of order).
- ``malformed``: the body is broken, cycling through four sub-kinds in a fixed order:
  ``broken_json`` (truncated JSON), ``missing_field`` (a required field dropped),
  ``wrong_type`` (a number sent as a string), ``out_of_range`` (a value outside the contract).
- ``voltage``: a sag (below -10% of nominal) or a swell (above +10%), outside EN 50160's band;
  the event stays well-formed and current follows from power / (voltage x power factor).
- ``conflict``: the reading is sent as usual, then resent 1 to ``CONFLICT_MAX_STEPS`` intervals
  later with other values (the same meter, timestamp and event_id; real power moved by 100 W to
  1 kW, current and energy following) and a ``sent_at`` of when it is resent on the simulated
  clock: the reading's time plus the intervals it waited. Never past the run's last interval
  (a resend of a reading there goes at that interval's end, ``sent_at`` 1 ms after it), so no
  ``sent_at`` runs ahead of the clock a backfill ends at. Ordinary readings carry no
  ``sent_at`` (the simulator sends each at its own timestamp, so it would say nothing new), and
  dbt counts a version without one as sent before any version with one: under
  ``conflict_policy`` latest the resend wins, under first the original does, and dbt's
  ``fct_reading_conflicts`` reports the key either way.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from producer.events import NEWLINE, EventBatch
from smartgrid.durations import epoch_ms, format_timestamp_ms, parse_utc_timestamp
from smartgrid.errors import SmartgridError

# New kinds go last: with them off, the draws of the others (and so the output) are unchanged.
FAULT_KINDS = ("duplicate", "late", "malformed", "voltage", "conflict")
MALFORMED_KINDS = ("broken_json", "missing_field", "wrong_type", "out_of_range")
REQUIRED_FIELDS = ("timestamp", "meter_id", "real_power_watts", "voltage", "power_factor")
NUMBER_FIELDS = ("real_power_watts", "voltage", "power_factor")

# EN 50160: 230 V +-10% (207-253 V) for 95% of 10-minute means. Sags and swells land clearly outside.
SAG_RANGE = (0.50, 0.85)
SWELL_RANGE = (1.12, 1.25)
# How far a late reading is held back, in wall time of the simulated clock.
LATE_MAX_SECONDS = 3600
# A duplicate is resent within this many intervals (0: at the end of the same interval).
DUPLICATE_MAX_STEPS = 2
# A conflicting resend comes 1 to this many intervals after the reading.
CONFLICT_MAX_STEPS = 2
# How far a conflicting resend moves real power (watts, either way).
CONFLICT_WATTS = (100.0, 1000.0)
POWER_RANGE = (-100_000.0, 1_000_000.0)  # the contract's real_power_watts bounds


@dataclass(frozen=True)
class FaultSpec:
    """Fractions of readings per fault kind (0 = off)."""

    duplicate: float = 0.0
    late: float = 0.0
    malformed: float = 0.0
    voltage: float = 0.0
    conflict: float = 0.0

    def __post_init__(self) -> None:
        for kind in FAULT_KINDS:
            value = getattr(self, kind)
            if not 0.0 <= value <= 1.0:
                raise SmartgridError(f"fault {kind}={value} must be a fraction between 0 and 1")
        if self.total > 1.0:
            raise SmartgridError(
                f"fault fractions add up to {self.total:g}; each reading gets at most one fault, "
                "so their sum must be at most 1"
            )

    @property
    def total(self) -> float:
        return sum(getattr(self, kind) for kind in FAULT_KINDS)

    @property
    def enabled(self) -> bool:
        return self.total > 0

    def __str__(self) -> str:
        return ",".join(f"{k}={getattr(self, k):g}" for k in FAULT_KINDS if getattr(self, k))


def parse_fault_spec(text: str | None) -> FaultSpec:
    """``duplicate=0.01,late=0.01,malformed=0.005,voltage=0.002`` -> FaultSpec; '' or None -> off."""
    if text is None or not text.strip() or text.strip().lower() == "none":
        return FaultSpec()
    values: dict[str, float] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        kind, sep, raw = part.partition("=")
        kind = kind.strip()
        if not sep:
            raise SmartgridError(
                f"fault {part!r} has no value: write kind=fraction, e.g. duplicate=0.01"
            )
        if kind not in FAULT_KINDS:
            raise SmartgridError(
                f"unknown fault kind {kind!r}: choose from {', '.join(FAULT_KINDS)}"
            )
        if kind in values:
            raise SmartgridError(f"fault kind {kind!r} is given twice")
        try:
            values[kind] = float(raw)
        except ValueError:
            raise SmartgridError(
                f"fault {kind}={raw.strip()!r} is not a number: write a fraction such as 0.01"
            ) from None
        if values[kind] != values[kind]:  # NaN
            raise SmartgridError(f"fault {kind}={raw.strip()!r} is not a number")
    return FaultSpec(**values)


def fault_key(kind: str, sub_kind: str | None = None) -> str:
    return f"{kind}.{sub_kind}" if sub_kind else kind


class FaultInjector:
    """Applies a FaultSpec to consecutive blocks of readings, keeping state across blocks.

    A block holds whole intervals ("steps"), ``meters`` readings per step, in step order.
    Late readings and duplicates wait in a heap keyed by the step they are released after.
    """

    def __init__(
        self,
        spec: FaultSpec,
        seed: int,
        *,
        meters: int,
        interval_seconds: float,
        nominal_voltage: float,
        steps: int | None = None,
    ) -> None:
        self.spec = spec
        # The run's last interval, when known: a conflicting resend is never held past it, so
        # its sent_at never runs ahead of the run's own clock (a backfill ends now).
        self.last_step = None if steps is None else steps - 1
        self.meters = meters
        self.nominal_voltage = nominal_voltage
        self.late_max_steps = max(1, int(LATE_MAX_SECONDS // interval_seconds))
        self.interval_ms = round(interval_seconds * 1000)
        self.counts: Counter[str] = Counter()
        self._rng = np.random.default_rng(np.random.SeedSequence([seed, 0xFA017]))
        self._pending: list[tuple[int, int, bytes, str]] = []
        self._seq = itertools.count()
        self._malformed_seq = 0
        cumulative = np.cumsum([getattr(spec, k) for k in FAULT_KINDS])
        self._thresholds = cumulative

    def apply(self, batch: EventBatch, first_step: int) -> tuple[EventBatch, list[int]]:
        """The events to send for one block of whole intervals, faults applied, held events
        released in place; and where each interval's events end in the result."""
        n = len(batch)
        if not self.spec.enabled:
            return batch, list(range(self.meters, n + 1, self.meters))
        draws = self._rng.random(n)
        kinds = np.searchsorted(self._thresholds, draws, side="right")  # len(kinds): none
        chosen = np.flatnonzero(kinds < len(FAULT_KINDS))
        # Two random values for every chosen reading, drawn in one go so the stream does not
        # depend on which kinds happen to be chosen.
        extra = self._rng.random((len(chosen), 2))
        lines = batch.line_list()
        keys = batch.partition_keys()
        removed: set[int] = set()
        for row, index in enumerate(chosen.tolist()):
            kind = FAULT_KINDS[int(kinds[index])]
            step = first_step + index // self.meters
            u1, u2 = float(extra[row, 0]), float(extra[row, 1])
            if kind == "duplicate":
                self._hold(step + int(u1 * (DUPLICATE_MAX_STEPS + 1)), lines[index], keys[index])
            elif kind == "late":
                removed.add(index)
                self._hold(step + 1 + int(u1 * self.late_max_steps), lines[index], keys[index])
            elif kind == "conflict":
                waited = 1 + int(u1 * CONFLICT_MAX_STEPS)
                if self.last_step is not None:
                    waited = max(0, min(waited, self.last_step - step))
                # In the run's last interval: resent at its end, a millisecond after it.
                resend = conflict_event(
                    orjson.loads(lines[index]),
                    u2,
                    waited * self.interval_ms or 1,
                    self.interval_ms,
                )
                self._hold(
                    step + waited,
                    orjson.dumps(resend, option=orjson.OPT_APPEND_NEWLINE),
                    keys[index],
                )
            elif kind == "malformed":
                sub_kind = MALFORMED_KINDS[self._malformed_seq % len(MALFORMED_KINDS)]
                self._malformed_seq += 1
                lines[index] = malform(orjson.loads(lines[index]), sub_kind, u1) + NEWLINE
                self.counts[fault_key(kind, sub_kind)] += 1
            else:
                sub_kind = "sag" if u1 < 0.5 else "swell"
                event = voltage_event(
                    orjson.loads(lines[index]), sub_kind, u2, self.nominal_voltage
                )
                lines[index] = orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE)
                self.counts[fault_key(kind, sub_kind)] += 1
            self.counts[kind] += 1
        out_lines: list[bytes] = []
        out_keys: list[str] = []
        step_ends: list[int] = []
        steps = (n + self.meters - 1) // self.meters
        for j in range(steps):
            lo, hi = j * self.meters, min((j + 1) * self.meters, n)
            if removed:
                kept = [i for i in range(lo, hi) if i not in removed]
                out_lines.extend(lines[i] for i in kept)
                out_keys.extend(keys[i] for i in kept)
            else:
                out_lines.extend(lines[lo:hi])
                out_keys.extend(keys[lo:hi])
            while self._pending and self._pending[0][0] <= first_step + j:
                _, _, line, key = heapq.heappop(self._pending)
                out_lines.append(line)
                out_keys.append(key)
            step_ends.append(len(out_lines))
        return EventBatch.from_lines(out_lines, out_keys), step_ends

    def drain(self) -> EventBatch:
        """Everything still held (late readings due after the last interval), in release order."""
        held = sorted(self._pending)
        self._pending.clear()
        return EventBatch.from_lines([h[2] for h in held], [h[3] for h in held])

    def _hold(self, release_step: int, line: bytes, key: str) -> None:
        heapq.heappush(self._pending, (release_step, next(self._seq), line, key))


def voltage_event(
    reading: dict[str, Any], sub_kind: str, u: float, nominal_voltage: float
) -> dict[str, Any]:
    low, high = SAG_RANGE if sub_kind == "sag" else SWELL_RANGE
    voltage = round(nominal_voltage * (low + (high - low) * u), 1)
    event = dict(reading)
    event["voltage"] = voltage
    if "current_a" in event:
        event["current_a"] = round(
            abs(event["real_power_watts"]) / (voltage * event["power_factor"]), 3
        )
    return event


def conflict_event(
    reading: dict[str, Any], u: float, waited_ms: int, interval_ms: int
) -> dict[str, Any]:
    """The reading resent ``waited_ms`` after its time with other values and that ``sent_at``.

    Real power moves by ``CONFLICT_WATTS`` (down when ``u`` < 0.5, else up), within the
    contract's bounds; current and energy, when the reading has them, follow from it.
    """
    if waited_ms <= 0:
        raise ValueError("a conflicting resend is sent after the reading")
    low, high = CONFLICT_WATTS
    step = low + (high - low) * abs(2.0 * u - 1.0)
    power = reading["real_power_watts"] + (-step if u < 0.5 else step)
    if not POWER_RANGE[0] <= power <= POWER_RANGE[1]:
        power = reading["real_power_watts"] + (step if u < 0.5 else -step)
    event = dict(reading)
    event["real_power_watts"] = round(power, 1)
    if "current_a" in event:
        event["current_a"] = round(
            abs(event["real_power_watts"]) / (event["voltage"] * event["power_factor"]), 3
        )
    if "energy_kwh" in event:
        event["energy_kwh"] = round(event["real_power_watts"] * (interval_ms / 3.6e9), 6)
    sent_ms = epoch_ms(parse_utc_timestamp(reading["timestamp"])) + waited_ms
    event["sent_at"] = format_timestamp_ms(sent_ms)
    return event


def malform(reading: dict[str, Any], sub_kind: str, u: float) -> bytes:
    """A broken body of the given sub-kind; never contains a newline (one event per line)."""
    if sub_kind == "broken_json":
        body = orjson.dumps(reading)
        # Cut inside the object (never at its end), so it cannot parse.
        return body[: 1 + int(u * (len(body) - 2))]
    event = dict(reading)
    if sub_kind == "missing_field":
        del event[REQUIRED_FIELDS[int(u * len(REQUIRED_FIELDS))]]
    elif sub_kind == "wrong_type":
        field = NUMBER_FIELDS[int(u * len(NUMBER_FIELDS))]
        event[field] = str(event[field])
    elif sub_kind == "out_of_range":
        field = NUMBER_FIELDS[int(u * len(NUMBER_FIELDS))]
        event[field] = {"real_power_watts": 5.0e6, "voltage": -1.0, "power_factor": 1.5}[field]
    else:
        raise ValueError(f"unknown malformed sub-kind {sub_kind!r}")
    return orjson.dumps(event)
