"""Replay: historical readings from a CSV or Parquet file, turned into contract events.

Columns are found by the contract's field names, or by ``--map field=column``. Each row is
checked against the event contract; a bad row is reported with its line number (CSV: the file's
line number, header = line 1; Parquet: the row number, first row = 1) and skipped, never
altered to fit. Interpretations, all documented in ``smartgrid replay --help``:

- timestamps without a zone are read as UTC; times are written with millisecond precision;
- ``real_power_watts`` is derived as voltage x current x power factor when the file has no
  power column but has ``current_a``;
- ``energy_kwh`` and ``current_a`` are carried when the file has them (empty cells: omitted);
- ``event_id`` is carried when present, else ``<meter_id>-<epoch ms>`` like the simulator.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

from producer.options import ReplayOptions
from smartgrid.contract import SCHEMA_VERSION, event_schema
from smartgrid.durations import epoch_ms, format_timestamp_ms
from smartgrid.errors import SmartgridError

REQUIRED = ("timestamp", "meter_id", "voltage", "power_factor")
NUMBERS = ("real_power_watts", "voltage", "power_factor", "energy_kwh", "current_a")
OPTIONAL = ("real_power_watts", "energy_kwh", "current_a", "event_id")


class BadRow(ValueError):
    """A row that does not make a valid event; the message says why."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@cache
def _meter_id_pattern() -> re.Pattern[str]:
    return re.compile(event_schema()["properties"]["meter_id"]["pattern"])


@cache
def _bounds(name: str) -> tuple[float, float]:
    spec = event_schema()["properties"][name]
    return spec["minimum"], spec["maximum"]


class ReplayFile:
    """Reads a replay file into (line number, {field: raw value}) rows."""

    def __init__(self, options: ReplayOptions) -> None:
        self.options = options
        self.path = Path(options.path)
        self.kind = "csv" if self.path.suffix.lower() == ".csv" else "parquet"
        self.columns = self._read_columns()
        self.fields = self._resolve_fields()
        self.derive_power = "real_power_watts" not in self.fields

    def _read_columns(self) -> list[str]:
        if self.kind == "csv":
            with self.path.open(encoding="utf-8-sig", newline="") as handle:
                header = next(csv.reader(handle), None)
            if not header:
                raise SmartgridError(f"replay file {self.path} is empty (no header line)")
            return [h.strip() for h in header]
        import pyarrow.parquet as pq

        try:
            return list(pq.ParquetFile(self.path).schema_arrow.names)
        except Exception as exc:
            raise SmartgridError(
                f"replay file {self.path} is not a readable Parquet file: {exc}"
            ) from None

    def _resolve_fields(self) -> dict[str, str]:
        """field -> column, for every field the file provides; missing required ones refused."""
        found: dict[str, str] = {}
        for name in (*REQUIRED, *OPTIONAL):
            column = self.options.column_for(name)
            if column in self.columns:
                found[name] = column
            elif column != name:  # explicitly mapped but absent: say so
                raise SmartgridError(
                    f"--map {name}={column}: the file has no column {column!r} "
                    f"(columns: {', '.join(self.columns)})"
                )
        missing = [name for name in REQUIRED if name not in found]
        if "real_power_watts" not in found and "current_a" not in found:
            missing.append("real_power_watts (or current_a to derive it)")
        if missing:
            raise SmartgridError(
                f"replay file {self.path} has no column for {', '.join(missing)}: "
                f"map one with --map field=column (columns: {', '.join(self.columns)})"
            )
        return found

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.kind == "csv":
            yield from self._csv_rows()
        else:
            yield from self._parquet_rows()

    def _csv_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        index = {name: self.columns.index(column) for name, column in self.fields.items()}
        with self.path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            line = reader.line_num + 1
            for record in reader:
                if not record:  # a blank line is not a reading
                    line = reader.line_num + 1
                    continue
                if len(record) != len(self.columns):
                    yield (
                        line,
                        {"__error__": f"{len(record)} values for {len(self.columns)} columns"},
                    )
                else:
                    yield line, {name: record[i] for name, i in index.items()}
                line = reader.line_num + 1

    def _parquet_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        import pyarrow.parquet as pq

        columns = list(dict.fromkeys(self.fields.values()))
        number = 0
        for batch in pq.ParquetFile(self.path).iter_batches(columns=columns, batch_size=65_536):
            for row in batch.to_pylist():
                number += 1
                yield number, {name: row[column] for name, column in self.fields.items()}


def parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif value is None or (isinstance(value, str) and not value.strip()):
        raise BadRow("timestamp: missing")
    else:
        text = str(value).strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise BadRow(f"timestamp: {text!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def parse_number(name: str, value: Any, *, required: bool) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadRow(f"{name}: missing")
        return None
    if isinstance(value, bool):
        raise BadRow(f"{name}: {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadRow(f"{name}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise BadRow(f"{name}: {value!r} is not a finite number")
    low, high = _bounds(name)
    if not low <= number <= high:
        raise BadRow(f"{name}: {number:g} is outside the contract's range {low:g} to {high:g}")
    return number


def to_event(values: dict[str, Any], *, derive_power: bool, shift: timedelta) -> dict[str, Any]:
    """One contract event from a row's raw values, or BadRow saying what is wrong."""
    if "__error__" in values:
        raise BadRow(values["__error__"])
    moment = parse_time(values.get("timestamp")) + shift
    ms = epoch_ms(moment)
    meter = values.get("meter_id")
    meter = "" if meter is None else str(meter).strip()
    if not meter:
        raise BadRow("meter_id: missing")
    if not _meter_id_pattern().match(meter):
        raise BadRow(f"meter_id: {meter!r} does not match {_meter_id_pattern().pattern}")
    voltage = parse_number("voltage", values.get("voltage"), required=True)
    power_factor = parse_number("power_factor", values.get("power_factor"), required=True)
    current = parse_number("current_a", values.get("current_a"), required=derive_power)
    if derive_power:
        power = round(voltage * current * power_factor, 3)  # type: ignore[operator]
        low, high = _bounds("real_power_watts")
        if not low <= power <= high:
            raise BadRow(f"real_power_watts: derived {power:g} W is outside the contract's range")
    else:
        power = parse_number("real_power_watts", values.get("real_power_watts"), required=True)
    event: dict[str, Any] = {
        "timestamp": format_timestamp_ms(ms),
        "meter_id": meter,
        "real_power_watts": power,
        "voltage": voltage,
        "power_factor": power_factor,
    }
    if current is not None:
        event["current_a"] = current
    energy = parse_number("energy_kwh", values.get("energy_kwh"), required=False)
    if energy is not None:
        event["energy_kwh"] = energy
    given_id = values.get("event_id")
    given_id = "" if given_id is None else str(given_id).strip()
    if len(given_id) > 128:
        raise BadRow("event_id: longer than 128 characters")
    event["event_id"] = given_id or f"{meter}-{ms}"
    event["schema_version"] = SCHEMA_VERSION
    return event


def time_range(source: ReplayFile) -> tuple[datetime, datetime] | None:
    """Earliest and latest times of the valid rows (a first pass for --shift-to-now)."""
    low = high = None
    for _, values in source.rows():
        try:
            to_event(values, derive_power=source.derive_power, shift=timedelta(0))
            moment = parse_time(values.get("timestamp"))
        except BadRow:
            continue
        low = moment if low is None or moment < low else low
        high = moment if high is None or moment > high else high
    return None if low is None else (low, high)  # type: ignore[return-value]
