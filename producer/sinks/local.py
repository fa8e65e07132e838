"""The embedded event hub: JSON Lines files in ``<lake>/landing/``.

The contract the ingest job reads (keep it exact):

- UTF-8 JSON Lines, one event body per line, each line ending in ``\\n``;
- files named ``events-<run start, UTC>-<run id>-<seq>.jsonl`` directly in ``landing/``, so
  names sort in send order within a run, runs sort by start time, and names never collide;
- each file is written under a hidden name (starting with ``.``, which Spark's file source
  ignores), fsynced, then renamed with ``os.replace``: a reader never sees half a file and a
  killed producer leaves no partial visible file;
- a file holds up to ``max_events_per_file`` events; paced producers also flush about every
  second, so live files may be smaller.

Files are written by one background thread, in order, so disk writes and fsyncs overlap with
generation; ``flush`` and ``close`` wait until every accepted event is in a visible file, and a
write error is raised by the next call.
"""

from __future__ import annotations

import os
import queue
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

from producer.events import EventBatch
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

DEFAULT_MAX_EVENTS_PER_FILE = 50_000


class LocalSink:
    name = "local"

    def __init__(
        self,
        lake: Lake,
        *,
        max_events_per_file: int = DEFAULT_MAX_EVENTS_PER_FILE,
        run_id: str | None = None,
        started: datetime | None = None,
    ) -> None:
        if not lake.is_local:
            raise SmartgridError(
                f"the local sink writes files under a local lake, not {lake.root}: "
                "use --sink eventhubs to send to Azure Event Hubs"
            )
        if max_events_per_file < 1:
            raise SmartgridError(f"--batch-size {max_events_per_file} must be at least 1")
        self.directory = Path(lake.landing.removeprefix("file:"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_events_per_file = max_events_per_file
        self.run_id = run_id or uuid.uuid4().hex[:12]
        started = started or datetime.now(timezone.utc)
        self._prefix = (
            f"events-{started:%Y%m%dT%H%M%S}{started.microsecond // 1000:03d}Z-{self.run_id}"
        )
        self._pending: list[EventBatch] = []
        self._pending_count = 0
        self._seq = 0
        self.files: list[Path] = []
        self.events_written = 0
        # At most two files wait for the writer: bounded memory, and the generator keeps going.
        self._queue: queue.Queue[tuple[Path, list[EventBatch], int] | None] = queue.Queue(2)
        self._error: BaseException | None = None
        self._writer: threading.Thread | None = None

    def send(self, batch: EventBatch) -> None:
        self._raise_writer_error()
        offset = 0
        while offset < len(batch):
            take = min(len(batch) - offset, self.max_events_per_file - self._pending_count)
            self._pending.append(batch.slice(offset, take) if take < len(batch) else batch)
            self._pending_count += take
            offset += take
            if self._pending_count >= self.max_events_per_file:
                self._write_file()

    def flush(self) -> None:
        if self._pending_count:
            self._write_file()
        self._queue.join()
        self._raise_writer_error()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._writer is not None:
                self._queue.put(None)
                self._writer.join()
                self._writer = None

    @property
    def delivered(self) -> int:
        return self.events_written

    def describe(self) -> str:
        return f"{len(self.files)} file(s) in {self.directory}"

    def _write_file(self) -> None:
        self._seq += 1
        final = self.directory / f"{self._prefix}-{self._seq:06d}.jsonl"
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_loop, name="landing-writer", daemon=True
            )
            self._writer.start()
        self._queue.put((final, self._pending, self._pending_count))
        self._pending = []
        self._pending_count = 0

    def _raise_writer_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise SmartgridError(
                f"writing a landing file in {self.directory} failed: {error}"
            ) from error

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self._error is None:  # after a failure, later files are not written
                    final, batches, count = item
                    write_atomically(final, batches)
                    self.files.append(final)
                    self.events_written += count
            except BaseException as exc:
                self._error = exc
            finally:
                self._queue.task_done()


def write_atomically(final: Path, batches: list[EventBatch]) -> None:
    """Write to a hidden temp name, fsync, rename: readers see the whole file or nothing."""
    temp = final.with_name(f".{final.name}.tmp")
    try:
        with open(temp, "wb") as handle:
            for batch in batches:
                handle.write(batch.jsonl())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(final.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable too (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
