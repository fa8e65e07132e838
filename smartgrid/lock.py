"""One process at a time on a lake's metastore: ``<lake>/.smartgrid.lock``, taken before Spark.

Spark's embedded Derby metastore admits one JVM; a second ``build`` that starts before the first
has booted Derby would retry for minutes and print thousands of Java frames before failing. The
commands that boot it (build, export, report, demo, live) take this lock first, so the second
fails at once, in one line naming the process that holds it.

The lock is an ``fcntl.flock`` on the file: the kernel releases it when its holder dies, so a
lock left by a killed process never blocks the next run (the file stays, with the dead pid; the
next run takes it over and logs a note). The file holds the holder's pid, host, command and
start time for the message. Within one process the lock is re-entrant (the demo and live mode run
several stages under the one lock the CLI took). Cloud lakes are not locked here.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

LOCK_NAME = ".smartgrid.lock"

_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth), this process's locks
_guard = threading.Lock()


def lock_path(lake: Lake) -> Path:
    return Path(lake.root.removeprefix("file:")) / LOCK_NAME


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _describe(text: str) -> tuple[str, int | None]:
    fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
    try:
        pid = int(fields.get("pid", ""))
    except ValueError:
        pid = None
    command = fields.get("command", "?").replace("_", " ")
    who = f"`smartgrid {command}` (pid {pid} on {fields.get('host', '?')}"
    return f"{who}, since {fields.get('started', '?')})", pid


@contextmanager
def lake_lock(lake: Lake, command: str) -> Iterator[None]:
    """Hold the lake's lock for the block; another process holding it is one SmartgridError."""
    if not lake.is_local:
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: Derby's own check (transform.metastore) still answers
        yield
        return
    path = lock_path(lake)
    key = str(path)
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            _release(key)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder, _ = _describe(_read(fd))
        os.close(fd)
        raise SmartgridError(
            f"the lake {lake.root} is in use by {holder}: wait for it to finish or stop it, "
            "or use another --lake"
        ) from None
    previous = _read(fd)
    if previous.strip():
        who, pid = _describe(previous)
        if pid is not None and pid != os.getpid() and not _alive(pid):
            logging.getLogger("smartgrid").info(
                "took over %s left by %s, which is no longer running", path, who
            )
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    record = f"pid={os.getpid()} host={socket.gethostname()} command={command} started={stamp}\n"
    os.ftruncate(fd, 0)
    os.pwrite(fd, record.encode(), 0)
    with _guard:
        _held[key] = (fd, 1)
    try:
        yield
    finally:
        _release(key)


def _release(key: str) -> None:
    with _guard:
        fd, depth = _held[key]
        if depth > 1:
            _held[key] = (fd, depth - 1)
            return
        del _held[key]
    os.close(fd)  # closing the only descriptor releases the flock


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 4096, 0).decode("utf-8", "replace")
    except OSError:
        return ""
