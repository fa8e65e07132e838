"""Replay: historical readings from a CSV or Parquet file, turned into contract events.

Columns are found by the contract's field names, or by ``--map field=column``. Each row is
checked against the event contract; a bad row is reported with its line number (CSV: the file's
line number, header = line 1; Parquet: the row number, first row = 1) and skipped, never
altered to fit. Interpretations, all documented in ``smartgrid replay --help``:

- timestamps without a zone are read as UTC; times are written with millisecond precision;
- ``real_power_watts`` is derived as voltage x current x power factor when the file has no
  power column but has ``current_a``;
- with ``--energy-interval`` (e.g. ``1h``) the power column holds the energy in Wh of the
  interval each reading covers, sent as that interval's average power, W = Wh x 3600 / seconds
  (a column named ``real_power_watts``, or the one ``--map real_power_watts=...`` names);
- ``energy_kwh`` and ``current_a`` are carried when the file has them (empty cells: omitted);
- ``event_id`` is carried when present, else ``<meter_id>-<epoch ms>`` like the simulator;
- ``sent_at`` (when the reading was sent: a resend with other values carries a later one, and
  dbt's ``conflict_policy`` orders the versions by it) is carried when the file has it (empty
  cells: omitted), read like ``timestamp`` and moved by ``--shift-to-now`` with it, so it stays
  the same time after the reading; whether it is plausible (not before the reading, not in
  the future) is the ingest's to judge, within its clock skew;
- numbers are plain ASCII decimals (``1_000``, full-width digits, ``nan`` are bad rows, though
  Python's ``float`` accepts them); times must stay within years 1000-9999 once their offset
  and ``--shift-to-now`` are applied (the contract writes four-digit years);
- CSV text is decoded with ``--encoding`` (UTF-8 by default): a row with bytes that do not
  decode is a bad row naming their byte offset, a header that does not decode refuses the file.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from producer.options import ReplayOptions
from smartgrid.contract import SCHEMA_VERSION, event_schema
from smartgrid.durations import MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, epoch_ms, format_timestamp_ms
from smartgrid.errors import SmartgridError

REQUIRED = ("timestamp", "meter_id", "voltage", "power_factor")
NUMBERS = ("real_power_watts", "voltage", "power_factor", "energy_kwh", "current_a")
OPTIONAL = ("real_power_watts", "energy_kwh", "current_a", "event_id", "sent_at")
# What a meter or a spreadsheet writes: ASCII digits, a point, an exponent. Python's float()
# also takes "1_000", full-width digits and "nan"; a row holding them is a bad row.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Bytes that did not decode, kept by the "surrogateescape" error handler as U+DC80..U+DCFF.
_UNDECODED = re.compile("[\udc80-\udcff]")
HEADER_BYTES_MAX = 1 << 20  # a header line longer than this is not a CSV header


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
    """Reads a replay file into (line number, {field: raw value}) rows.

    A row that cannot be read (a field over the CSV field limit, a NUL byte, bytes that do not
    decode, a Parquet value out of range) comes as ``{"__error__": reason}``: a bad row, never
    an exception that stops the run.
    """

    def __init__(self, options: ReplayOptions) -> None:
        self.options = options
        self.path = Path(options.path)
        self.kind = "csv" if self.path.suffix.lower() == ".csv" else "parquet"
        self.encoding = options.encoding
        self.columns = self._read_columns()
        self.fields = self._resolve_fields()
        self.derive_power = "real_power_watts" not in self.fields
        interval = options.energy_interval
        self.energy_seconds = None if interval is None else interval.total_seconds()
        if self.energy_seconds is not None and self.derive_power:
            raise SmartgridError(
                f"--energy-interval reads each reading's energy (Wh) from the power column, and "
                f"replay file {self.path} has none: name the energy column with "
                f"--map real_power_watts=COLUMN (columns: {self._column_list()})"
            )

    def _open_text(self) -> io.TextIOWrapper:
        # newline="" as the csv module wants; undecodable bytes are kept (surrogateescape) so
        # the row holding them is reported with its line, and the rows after it still read.
        # A UTF-8 byte-order mark is dropped from the first line by the callers.
        return open(self.path, encoding=self.encoding, errors="surrogateescape", newline="")

    def _read_columns(self) -> list[str]:
        if self.kind == "csv":
            return self._read_csv_header()
        import pyarrow.parquet as pq

        try:
            return list(pq.ParquetFile(self.path).schema_arrow.names)
        except Exception as exc:
            raise SmartgridError(
                f"replay file {self.path} is not a readable Parquet file: {exc}"
            ) from None

    def _read_csv_header(self) -> list[str]:
        with self._open_text() as handle:
            first = handle.readline(HEADER_BYTES_MAX)
        if not first.strip():
            raise SmartgridError(f"replay file {self.path} is empty (no header line)")
        where = _undecoded_offset(first, self.encoding, 0)
        first = first.removeprefix("\ufeff")
        if where is not None:
            raise SmartgridError(
                f"replay file {self.path} is not {self.encoding} text: the byte at byte offset "
                f"{where} (line 1) does not decode; if the file uses another encoding, name it "
                "with --encoding (e.g. --encoding cp1252)"
            )
        unended = not first.endswith(("\n", "\r")) and len(first) >= HEADER_BYTES_MAX
        if "\x00" in first or unended:
            raise SmartgridError(
                f"replay file {self.path} does not start with a CSV header line "
                "(a NUL byte, or no line end in its first MB): is it a CSV text file?"
            )
        try:
            header = next(csv.reader([first]), None)
        except csv.Error as exc:
            raise SmartgridError(
                f"replay file {self.path} has no readable CSV header line: {exc}"
            ) from None
        if not header:
            raise SmartgridError(f"replay file {self.path} is empty (no header line)")
        return [h.strip() for h in header]

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
                    f"(columns: {self._column_list()})"
                )
        missing = [name for name in REQUIRED if name not in found]
        if "real_power_watts" not in found and "current_a" not in found:
            missing.append("real_power_watts (or current_a to derive it)")
        if missing:
            raise SmartgridError(
                f"replay file {self.path} has no column for {', '.join(missing)}: "
                f"map one with --map field=column (columns: {self._column_list()})"
            )
        return found

    def _column_list(self) -> str:
        """The columns for a message: a garbage header must not flood the terminal."""
        text = ", ".join(c if c.isprintable() else repr(c) for c in self.columns)
        return text if len(text) <= 300 else f"{text[:300]}... ({len(self.columns)} columns)"

    def rows(self, start_line: int = 1) -> Iterator[tuple[int, dict[str, Any]]]:
        """Rows from line (CSV) or row number (Parquet) ``start_line`` on."""
        rows = self._csv_rows() if self.kind == "csv" else self._parquet_rows()
        if start_line <= 1:
            yield from rows
            return
        for line, values in rows:
            if line >= start_line:
                yield line, values

    def _csv_lines(self, handle: io.TextIOWrapper, bad_bytes: dict[int, int]) -> Iterator[str]:
        """The file's lines; ``bad_bytes`` gets line number -> byte offset of what did not decode."""
        offset = 0
        for number, text in enumerate(handle, start=1):
            if text.isascii():
                size = len(text)
            else:
                where = _undecoded_offset(text, self.encoding, offset)
                if where is not None:
                    bad_bytes[number] = where
                size = len(_encode(text, self.encoding))
            offset += size
            yield text.removeprefix("\ufeff") if number == 1 else text

    def _csv_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        index = {name: self.columns.index(column) for name, column in self.fields.items()}
        bad_bytes: dict[int, int] = {}
        with self._open_text() as handle:
            reader = csv.reader(self._csv_lines(handle, bad_bytes))
            next(reader)  # the header, checked when the file was opened
            while True:
                line = reader.line_num + 1
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield line, {"__error__": _csv_reason(exc)}
                    continue
                if not record:  # a blank line is not a reading
                    continue
                undecoded = (
                    [n for n in range(line, reader.line_num + 1) if n in bad_bytes]
                    if bad_bytes
                    else ()
                )
                if undecoded:
                    yield line, {"__error__": self._undecoded_reason(bad_bytes[undecoded[0]])}
                elif len(record) != len(self.columns):
                    yield (
                        line,
                        {"__error__": f"{len(record)} values for {len(self.columns)} columns"},
                    )
                else:
                    yield line, {name: record[i] for name, i in index.items()}
                for n in undecoded:
                    del bad_bytes[n]

    def _undecoded_reason(self, offset: int) -> str:
        return (
            f"bytes that are not {self.encoding} at byte offset {offset} "
            "(if the file uses another encoding, name it with --encoding)"
        )

    def _parquet_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        import pyarrow.parquet as pq

        columns = list(dict.fromkeys(self.fields.values()))
        number = 0
        try:
            batches = pq.ParquetFile(self.path).iter_batches(columns=columns, batch_size=65_536)
            for batch in batches:
                try:
                    rows = batch.to_pylist()
                except (ValueError, OverflowError):
                    # A value Python cannot hold (e.g. a time past year 9999): find it per cell.
                    rows = _rows_cell_by_cell(batch)
                for row in rows:
                    number += 1
                    if "__error__" in row:
                        yield number, row
                    else:
                        yield number, {name: row[column] for name, column in self.fields.items()}
        except OSError as exc:  # pyarrow's errors for a damaged file are OSErrors
            raise SmartgridError(
                f"replay file {self.path} cannot be read after row {number:,}: {exc}"
            ) from None


def _rows_cell_by_cell(batch: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    names = batch.schema.names
    for i in range(batch.num_rows):
        row: dict[str, Any] = {}
        for name, column in zip(names, batch.columns, strict=True):
            try:
                row[name] = column[i].as_py()
            except (ValueError, OverflowError) as exc:
                row = {"__error__": f"{name}: {exc}"}
                break
        rows.append(row)
    return rows


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "surrogateescape")


def _undecoded_offset(text: str, encoding: str, offset: int) -> int | None:
    """Byte offset in the file of the first byte of ``text`` that did not decode, if any."""
    match = _UNDECODED.search(text)
    if match is None:
        return None
    return offset + len(_encode(text[: match.start()], encoding))


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a field is longer than the CSV field limit ({csv.field_size_limit():,} characters)"
    if "NUL" in text:
        return "a NUL byte (binary data, not CSV text)"
    return f"not readable as CSV: {text}"


def parse_time(value: Any, name: str = "timestamp") -> datetime:
    """An aware datetime (naive times are UTC); never converted, so no offset overflows here."""
    if isinstance(value, datetime):
        parsed = value
    elif value is None or (isinstance(value, str) and not value.strip()):
        raise BadRow(f"{name}: missing")
    else:
        text = str(value).strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise BadRow(f"{name}: {text!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def parse_number(name: str, value: Any, *, required: bool, bounded: bool = True) -> float | None:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            if required:
                raise BadRow(f"{name}: missing")
            return None
        if not _NUMBER.fullmatch(text):
            raise BadRow(f"{name}: {text!r} is not a number")
        number = float(text)
    elif value is None:
        if required:
            raise BadRow(f"{name}: missing")
        return None
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    else:
        raise BadRow(f"{name}: {value!r} is not a number")
    if not math.isfinite(number):
        raise BadRow(f"{name}: {value!r} is not a finite number")
    if not bounded:
        return number
    low, high = _bounds(name)
    if not low <= number <= high:
        raise BadRow(f"{name}: {number:g} is outside the contract's range {low:g} to {high:g}")
    return number


def event_ms(values: dict[str, Any], shift_ms: int = 0, name: str = "timestamp") -> int:
    """The row's time (or another time field) in epoch milliseconds after ``shift_ms``, within
    the contract's years."""
    parsed = parse_time(values.get(name), name)
    ms = epoch_ms(parsed) + shift_ms
    if not MIN_TIMESTAMP_MS <= ms <= MAX_TIMESTAMP_MS:
        shown = parsed.isoformat() if isinstance(values.get(name), datetime) else None
        shown = shown or str(values.get(name)).strip()
        moved = " once --shift-to-now moves it" if shift_ms else ""
        raise BadRow(f"{name}: {shown!r} is outside the years 1000 to 9999 in UTC{moved}")
    return ms


def to_event(
    values: dict[str, Any],
    *,
    derive_power: bool,
    shift_ms: int = 0,
    energy_seconds: float | None = None,
) -> dict[str, Any]:
    """One contract event from a row's raw values, or BadRow saying what is wrong."""
    return convert(
        values, derive_power=derive_power, shift_ms=shift_ms, energy_seconds=energy_seconds
    )[0]


def average_watts(values: dict[str, Any], energy_seconds: float) -> float:
    """The power column read as Wh over ``energy_seconds``: the interval's average power."""
    wh = parse_number(
        "real_power_watts", values.get("real_power_watts"), required=True, bounded=False
    )
    watts = wh * 3600.0 / energy_seconds  # type: ignore[operator]
    low, high = _bounds("real_power_watts")
    if not low <= watts <= high:
        raise BadRow(
            f"real_power_watts: {wh:g} Wh over {energy_seconds:g} s is {watts:g} W, outside the "
            f"contract's range {low:g} to {high:g}"
        )
    return watts


def convert(
    values: dict[str, Any],
    *,
    derive_power: bool,
    shift_ms: int = 0,
    energy_seconds: float | None = None,
) -> tuple[dict[str, Any], int]:
    """The event and its time in epoch milliseconds, or BadRow saying what is wrong.

    With ``energy_seconds`` the power column holds Wh over that interval (--energy-interval).
    """
    if "__error__" in values:
        raise BadRow(values["__error__"])
    ms = event_ms(values, shift_ms)
    meter = values.get("meter_id")
    meter = "" if meter is None else str(meter).strip()
    if not meter:
        raise BadRow("meter_id: missing")
    if not _meter_id_pattern().fullmatch(meter):
        raise BadRow(f"meter_id: {meter!r} does not match {_meter_id_pattern().pattern}")
    voltage = parse_number("voltage", values.get("voltage"), required=True)
    power_factor = parse_number("power_factor", values.get("power_factor"), required=True)
    current = parse_number("current_a", values.get("current_a"), required=derive_power)
    if energy_seconds is not None:
        power = average_watts(values, energy_seconds)
    elif derive_power:
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
    sent_at = values.get("sent_at")
    if sent_at is not None and not (isinstance(sent_at, str) and not sent_at.strip()):
        event["sent_at"] = format_timestamp_ms(event_ms(values, shift_ms, "sent_at"))
    return event, ms


# A good row, ready to send: its JSON line, partition key (meter id) and time (epoch ms).
Encoded = tuple[bytes, str, int]


def encode(event: dict[str, Any], ms: int) -> Encoded:
    return orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE), event["meter_id"], ms


def good_rows(source: ReplayFile, *, shift_ms: int = 0, start_line: int = 1) -> Iterator[Encoded]:
    """The good rows of the file, encoded; bad rows are skipped (``check_file`` reports them)."""
    for _, values in source.rows(start_line):
        try:
            event, ms = convert(
                values,
                derive_power=source.derive_power,
                shift_ms=shift_ms,
                energy_seconds=source.energy_seconds,
            )
        except BadRow:
            continue
        yield encode(event, ms)


@dataclass
class FileCheck:
    """What a full pass over the file found, before any event is sent."""

    rows: int = 0
    good: int = 0
    bad: int = 0
    problems: list[str] | None = None  # the first ``keep`` bad rows, "line N: reason"
    low_ms: int | None = None  # earliest and latest time of the good rows
    high_ms: int | None = None
    undecoded: str | None = None  # the first bad row whose bytes did not decode
    # The good rows encoded, when there were at most ``cache_rows`` (saves reading twice).
    cached: list[Encoded] | None = None


def check_file(
    source: ReplayFile,
    *,
    shift_ms: int = 0,
    start_line: int = 1,
    keep: int = 100,
    cache_rows: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> FileCheck:
    """Read every row once: counts, the first bad rows, the time range of the good ones.

    ``on_progress`` gets the rows read so far every 10,000 rows (a long check is not silent).
    """
    found = FileCheck(problems=[], cached=[] if cache_rows > 0 else None)
    problems = found.problems
    assert problems is not None
    for line, values in source.rows(start_line):
        found.rows += 1
        if on_progress is not None and not found.rows % 10_000:
            on_progress(found.rows)
        try:
            event, ms = convert(
                values,
                derive_power=source.derive_power,
                shift_ms=shift_ms,
                energy_seconds=source.energy_seconds,
            )
        except BadRow as why:
            found.bad += 1
            problem = str(RowProblem(line, str(why)))
            if found.undecoded is None and "--encoding" in problem:
                found.undecoded = problem
            if len(problems) < keep:
                problems.append(problem)
            continue
        found.good += 1
        found.low_ms = ms if found.low_ms is None else min(found.low_ms, ms)
        found.high_ms = ms if found.high_ms is None else max(found.high_ms, ms)
        if found.cached is not None:
            if found.good > cache_rows:
                found.cached = None  # too big to hold: the rows are read again to be sent
            else:
                found.cached.append(encode(event, ms))
    return found
