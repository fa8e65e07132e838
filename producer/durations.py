"""Durations (``90s``, ``15m``, ``2h``, ``7d``) and UTC timestamps as the CLI writes them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from smartgrid.errors import SmartgridError

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$")


def parse_duration(text: str, *, name: str = "duration") -> timedelta:
    """``90s`` -> 90 seconds, ``15m``, ``2h``, ``7d``, ``1w``; a positive whole number and a unit."""
    match = _DURATION.match(str(text))
    if not match:
        raise SmartgridError(
            f"{name} {text!r} is not a duration: write a whole number and a unit "
            "(ms, s, m, h, d, w), e.g. 90s, 15m, 2h, 7d"
        )
    value = int(match.group(1)) * _UNITS[match.group(2)]
    if value <= 0:
        raise SmartgridError(f"{name} {text!r} must be greater than zero")
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
    return value.astimezone(timezone.utc)


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def epoch_ms(value: datetime) -> int:
    """Milliseconds since the epoch, exact (no float rounding)."""
    delta = value - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def format_timestamp_ms(ms: int) -> str:
    """The contract's timestamp: UTC, ISO-8601, millisecond precision, ``Z``."""
    value = EPOCH + timedelta(milliseconds=ms)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"
