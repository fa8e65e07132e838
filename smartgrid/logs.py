"""Where a command's full log goes, and the one line a person reads when it fails.

Every ``smartgrid`` command writes everything (its own log records, py4j's, Spark's, Ivy's,
Delta's, the JVM's stderr) to ``<lake>/logs/<command>.log``; dbt writes ``<lake>/logs/dbt.log``.
The console gets the command's own output only; ``--verbose`` puts the engines' logs back.

The file is created on the first record (a refused option leaves no lake behind). The JVM learns
the path from ``SMARTGRID_LOG_FILE`` (smartgrid/log4j2.properties reads it), and its inherited
stdout/stderr point at the file while it starts (:func:`redirect_output`), which catches what
bypasses log4j (Ivy's resolution report, the JVM's own warnings).
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from smartgrid.errors import SmartgridError

LOG_FILE_ENV = "SMARTGRID_LOG_FILE"
CONSOLE_LEVEL_ENV = "SMARTGRID_CONSOLE_LOG_LEVEL"
LOG_DIR = "logs"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Python loggers of the engines: into the file at WARNING, never on the console unless verbose.
QUIET_LOGGERS = ("py4j", "py4j.clientserver", "py4j.java_gateway")


def log_dir(lake_root: str) -> Path:
    """``<lake>/logs`` for a local lake; ``./logs`` when the lake is a cloud URI."""
    if "://" in lake_root and not lake_root.startswith("file:"):
        return Path(LOG_DIR).resolve()
    return Path(lake_root.removeprefix("file:")) / LOG_DIR


def verbose() -> bool:
    """Did the command ask for the engines' logs on the console (``--verbose``)?"""
    return bool(os.environ.get(CONSOLE_LEVEL_ENV))


def current_log() -> Path | None:
    """The running command's log file (set by :class:`CommandLog`), if any."""
    value = os.environ.get(LOG_FILE_ENV)
    return Path(value) if value else None


class _LazyFileHandler(logging.FileHandler):
    """A FileHandler whose file (and directory) appear with the first record, after a header."""

    def __init__(self, path: Path, header: str = "") -> None:
        super().__init__(path, mode="a", encoding="utf-8", delay=True)
        self.header = header

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        stream = super()._open()
        if self.header:
            stream.write(self.header + "\n")
            self.header = ""
        return stream


@contextmanager
def redirect_output(path: Path) -> Iterator[None]:
    """Point this process's stdout and stderr (file descriptors 1 and 2) at ``path``.

    A child started inside (Spark's JVM) keeps them for its whole life; this process gets its
    own back on exit.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, target):
            os.close(fd)


@contextmanager
def quiet_jvm_start() -> Iterator[None]:
    """Around a JVM start: its stdout/stderr into the command's log unless verbose."""
    log = current_log()
    if log is None or verbose():
        yield
        return
    logging.getLogger("smartgrid").info("starting Spark; the JVM's output follows")
    with redirect_output(log):
        yield


class CommandLog:
    """The log of one command run: Python's logging into the file, the engines told where."""

    def __init__(self, path: Path, *, verbose: bool = False, header: str = "") -> None:
        self.path = path
        self.verbose = verbose
        self.header = header  # written with the first record (the command line, the time)
        self._started = 0.0
        self._handlers: list[logging.Handler] = []
        self._saved_env: dict[str, str | None] = {}
        self._saved_levels: dict[str, int] = {}
        self._root_level = logging.NOTSET

    @classmethod
    def for_command(
        cls, command: str, lake_root: str, *, verbose: bool = False, argv: list[str] | None = None
    ) -> CommandLog:
        line = " ".join(["smartgrid", *(argv if argv is not None else sys.argv[1:])])
        header = f"===== {time.strftime('%Y-%m-%d %H:%M:%S')} {line}"
        return cls(log_dir(lake_root) / f"{command}.log", verbose=verbose, header=header)

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    def __enter__(self) -> CommandLog:
        root = logging.getLogger()
        self._root_level = root.level
        root.setLevel(logging.INFO)
        self._started = time.monotonic()
        handler = _LazyFileHandler(self.path, self.header)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        self._handlers.append(handler)
        if self.verbose:
            console = logging.StreamHandler(sys.stderr)
            console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            self._handlers.append(console)
        for h in self._handlers:
            root.addHandler(h)
        logging.captureWarnings(True)  # Python warnings (pyspark's, dbt's) into the log too
        if not self.verbose:
            for name in QUIET_LOGGERS:
                logger = logging.getLogger(name)
                self._saved_levels[name] = logger.level
                logger.setLevel(logging.WARNING)
        env = {LOG_FILE_ENV: str(self.path), CONSOLE_LEVEL_ENV: "INFO" if self.verbose else None}
        for key, value in env.items():
            self._saved_env[key] = os.environ.get(key)
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return self

    def __exit__(self, *exc_info) -> None:
        root = logging.getLogger()
        for h in self._handlers:
            root.removeHandler(h)
            h.close()
        root.setLevel(self._root_level)
        logging.captureWarnings(False)
        for name, level in self._saved_levels.items():
            logging.getLogger(name).setLevel(level)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def done(self) -> None:
        """The command succeeded: say so in the log (which creates it if nothing else did)."""
        logging.getLogger("smartgrid").info("done in %.1f s", time.monotonic() - self._started)

    def fail(self, exc: BaseException, message: str | None = None, *, stream=None) -> None:
        """Print the one ``error:`` line; the traceback goes to the log (never the console).

        A failure before anything was logged (a refused option) creates no file and names none.
        """
        stream = stream or sys.stderr
        message = message or one_line(exc)
        if self.exists or not _is_user_error(exc):
            logging.getLogger("smartgrid").error(
                "error: %s\n%s",
                message,
                "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            )
            print(f"error: {message} (full log: {self.path})", file=stream, flush=True)
        else:
            print(f"error: {message}", file=stream, flush=True)


def _is_user_error(exc: BaseException) -> bool:
    return isinstance(exc, SmartgridError)


def one_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message (its type when it has none)."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if _is_user_error(exc):  # written for a person: all of it, on one line
        return " ".join(lines)
    return f"{type(exc).__name__}: {lines[0]}"
