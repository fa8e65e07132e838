"""What the landing source will not read, said out loud.

The local source (``ingest.sources.read_landing``) reads the files directly in the landing folder
whose names end in ``.jsonl`` (case matters), skipping hidden names (Spark skips names starting
with ``.`` or ``_``), and reads each file name once: the checkpoint's file-source log records
every file read with its modification time, and a file later rewritten under the same name is
never read again. Anything else in the folder would be ignored without a word, and
raw = validated + quarantine could not notice it.

``LandingWatch.scan()`` lists the folder once (one ``scandir``, plus a ``stat`` of the files the
log already holds) and returns each ignored entry with the reason, once per entry per run. The
producer's in-flight files (hidden ``*.tmp``) are the one thing skipped silently.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

IN_FLIGHT_SUFFIX = ".tmp"
LANDING_SUFFIX = ".jsonl"


@dataclass(frozen=True, order=True)
class IgnoredEntry:
    """One landing entry the source does not read: its path relative to the folder, and why."""

    path: str
    why: str

    def format(self) -> str:
        return f"ignored landing entry: {self.path}: {self.why}"


def why_ignored(name: str, *, is_dir: bool) -> str | None:
    """Why the source skips a top-level entry of this name and kind (None: it reads it)."""
    if name.startswith(".") and name.endswith(IN_FLIGHT_SUFFIX):
        return None  # a file being written (renamed into place when complete)
    if is_dir:
        if name.endswith(LANDING_SUFFIX):
            return "a directory named *.jsonl; only files directly in the landing folder are read"
        return "a sub-folder; only files directly in the landing folder are read"
    if name.startswith((".", "_")):
        return "a hidden name (starting with . or _); Spark's listing skips it"
    if name.endswith(LANDING_SUFFIX):
        return None
    if name.lower().endswith(LANDING_SUFFIX):
        return "the suffix is not exactly .jsonl (it is case-sensitive)"
    return "not a .jsonl file"


def file_source_log(checkpoint: Path) -> Path:
    """The checkpoint's log of the files the (only) file source has read."""
    return checkpoint / "sources" / "0"


def _local_path(uri: str) -> str:
    parsed = urlparse(uri)
    return os.path.normpath(unquote(parsed.path) if parsed.scheme in ("", "file") else uri)


@dataclass
class LandingWatch:
    """Reports, once per run, each landing entry the source ignores (local landing folder only)."""

    landing: Path
    checkpoint: Path
    reported: set[IgnoredEntry] = field(default_factory=set)
    _read_logs: set[str] = field(default_factory=set, repr=False)
    _ingested: dict[str, int] = field(default_factory=dict, repr=False)

    def ingested(self) -> dict[str, int]:
        """Files the source has read (local path -> modification time in ms), from the log.

        A batch's log file is written once, so each is parsed once per run; a ``.compact``
        file holds all entries up to its batch.
        """
        folder = file_source_log(self.checkpoint)
        try:
            names = sorted(
                e.name
                for e in os.scandir(folder)
                if e.is_file() and not e.name.startswith(".") and not e.name.endswith(".crc")
            )
        except FileNotFoundError:
            return self._ingested
        for name in names:
            if name in self._read_logs:
                continue
            try:
                lines = (folder / name).read_text(encoding="utf-8").splitlines()
            except FileNotFoundError:  # deleted by a compaction meanwhile: its successor has it
                continue
            for line in lines[1:]:  # the first line is the log's version ("v1")
                if line.strip():
                    entry = json.loads(line)
                    self._ingested[_local_path(entry["path"])] = int(entry["timestamp"])
            self._read_logs.add(name)
        return self._ingested

    def scan(self) -> list[IgnoredEntry]:
        """The ignored entries not reported before in this run, sorted by path."""
        try:
            entries = list(os.scandir(self.landing))
        except FileNotFoundError:
            return []
        ingested = self.ingested()
        found: list[IgnoredEntry] = []
        for entry in entries:
            is_dir = entry.is_dir()
            why = why_ignored(entry.name, is_dir=is_dir)
            if why is None and not is_dir:
                seen = ingested.get(os.path.normpath(entry.path))
                if seen is not None:
                    try:
                        mtime_ms = entry.stat().st_mtime_ns // 1_000_000
                    except FileNotFoundError:
                        continue
                    if mtime_ms != seen:
                        why = (
                            "rewritten after it was ingested (a file name is read once); "
                            "its new content is not read: land it under a new name"
                        )
            if why is None:
                continue
            ignored = IgnoredEntry(entry.name + ("/" if is_dir else ""), why)
            if ignored not in self.reported:
                self.reported.add(ignored)
                found.append(ignored)
        return sorted(found)
