"""Durations and UTC timestamps as every command line writes them.

One duration grammar for every option that takes one (the producer's ``--duration`` and
``--interval``, the demo's ``--interval``, the ingest's ``--interval`` and ``--max-future-skew``):
a whole number, optional spaces, and one unit of ``ms``, ``s``, ``m``, ``h``, ``d``, ``w``
(``500ms``, ``90s``, ``15m``, ``2h``, ``7d``, ``1w``). A bare number (which unit?), a fraction
(``1.5h``: write ``90m``), a sign and a spelled-out unit (``7 days``) are refused with the
option's name and the value.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from smartgrid.errors import SmartgridError

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Python's timedelta holds up to 999,999,999 days; 9,000 years spans every four-digit year.
MAX_DURATION_DAYS = 3_287_250
MAX_DURATION_SECONDS = MAX_DURATION_DAYS * 86400
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$")


def parse_duration(text: str, *, name: str = "duration", allow_zero: bool = False) -> timedelta:
    """``90s`` -> 90 seconds, ``15m``, ``2h``, ``7d``, ``1w``; a whole number and a unit.

    The value must be positive, or zero or more with ``allow_zero`` (a tolerance such as the
    ingest's ``--max-future-skew``).
    """
    match = _DURATION.match(str(text))
    if not match:
        raise SmartgridError(
            f"{name} {text!r} is not a duration: write a whole number and a unit "
            "(ms, s, m, h, d, w), e.g. 90s, 15m, 2h, 7d"
        )
    value = int(match.group(1)) * _UNITS[match.group(2)]
    if value < 0 or (value == 0 and not allow_zero):
        raise SmartgridError(f"{name} {text!r} must be greater than zero")
    if value > MAX_DURATION_SECONDS:
        raise SmartgridError(f"{name} {text!r} is too long: at most {MAX_DURATION_DAYS:,}d")
    return timedelta(seconds=value)


def parse_utc_timestamp(text: str, *, name: str = "timestamp") -> datetime:
    """An ISO-8601 time with ``Z`` or an offset (naive times are refused: they are ambiguous)."""
    try:
        value = datetime.fromisoformat(
            str(text).strip().replace("Z", "+00:00").replace("z", "+00:00")
        )
    except ValueError:
        raise SmartgridError(
            f"{name} {text!r} is not an ISO-8601 time, e.g. 2025-01-01T00:00:00Z"
        ) from None
    if value.tzinfo is None:
        raise SmartgridError(
            f"{name} {text!r} has no time zone: add Z for UTC, e.g. 2025-01-01T00:00:00Z"
        )
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is in the year 10000 in UTC
        raise SmartgridError(
            f"{name} {text!r} is outside the years 1..9999 once moved to UTC: give a time "
            "in the years 1000-9999"
        ) from None


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The contract's timestamps have four-digit years: 1000-01-01 .. 9999-12-31T23:59:59.999Z.
MIN_TIMESTAMP_MS = -30_610_224_000_000
MAX_TIMESTAMP_MS = 253_402_300_799_999


def epoch_ms(value: datetime) -> int:
    """Milliseconds since the epoch, exact (no float rounding)."""
    delta = value - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def format_duration(value: timedelta) -> str:
    """A duration in the grammar above, in its largest whole unit (``2h``, ``90s``, ``7d``)."""
    ms = value // timedelta(milliseconds=1)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size:,}{unit}"
    return f"{ms:,}ms"


def format_timestamp_ms(ms: int) -> str:
    """The contract's timestamp: UTC, ISO-8601, millisecond precision, ``Z``."""
    value = EPOCH + timedelta(milliseconds=ms)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"
