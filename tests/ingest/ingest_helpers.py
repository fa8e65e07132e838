"""Helpers of the ingest tests: landing files written the way the producer's local sink does."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def make_event(i: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid event of the contract; ``overrides`` replace (or with None, drop) fields."""
    event: dict[str, Any] = {
        "event_id": f"evt-{i:08d}",
        "timestamp": f"2025-01-01T00:{i % 60:02d}:00.000Z",
        "meter_id": f"MTR-{i % 50:06d}",
        "real_power_watts": 1500.5 + i,
        "voltage": 230.1,
        "power_factor": 0.95,
        "energy_kwh": 0.025,
        "current_a": 6.5,
        "schema_version": 1,
    }
    for key, value in overrides.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def body(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"))


def write_landing_file(landing: Path, name: str, lines: Iterable[str]) -> Path:
    """One JSON Lines file, written under a hidden temp name and renamed into place."""
    landing.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{line}\n" for line in lines)
    tmp = landing / f".{name}.tmp"
    tmp.write_text(text, encoding="utf-8")
    target = landing / name
    tmp.rename(target)
    return target
