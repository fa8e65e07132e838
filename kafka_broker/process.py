"""The broker as a Java process: storage formatting, start (a taken port refused by name), ready
(a real metadata request answered), stop (SIGTERM, then SIGKILL), status, and the context
managers the demo and the tests use."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from kafka_broker.config import (
    DEFAULT_PARTITIONS,
    DEFAULT_PORT,
    DEFAULT_READY_TIMEOUT,
    DEFAULT_STOP_TIMEOUT,
    HOST,
    JVM_OPTIONS,
    MAIN_CLASS,
    STORAGE_TOOL,
    BrokerFiles,
    BrokerInfo,
    new_cluster_id,
    render_config,
)
from kafka_broker.jars import LOG_CONFIG, ensure_jars
from kafka_broker.topics import admin_client, metadata
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake


def _java() -> str:
    from smartgrid.java import check_java, java_executable

    check_java()
    return java_executable() or "java"


def _classpath(jars: Path) -> str:
    return f"{jars}{os.sep}*"


def format_storage(files: BrokerFiles, jars: Path) -> bool:
    """Format the data directory once (KRaft needs a cluster id and metadata); True if it did."""
    if (files.data / "meta.properties").exists():
        return False
    if not files.cluster_id.exists():
        files.cluster_id.write_text(new_cluster_id() + "\n", encoding="utf-8")
    cluster_id = files.cluster_id.read_text(encoding="utf-8").strip()
    command = [
        _java(),
        *JVM_OPTIONS,
        f"-Dlog4j2.configurationFile={LOG_CONFIG}",
        "-cp",
        _classpath(jars),
        STORAGE_TOOL,
        "format",
        "--cluster-id",
        cluster_id,
        "--config",
        str(files.config),
        "--ignore-formatted",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SmartgridError(
            f"formatting the Kafka storage in {files.data} failed (exit {done.returncode}): "
            + (done.stderr or done.stdout).strip()[-2000:]
        )
    return True


# --------------------------------------------------------------------------------------------
# Processes and ports
# --------------------------------------------------------------------------------------------


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped, does not count)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def _is_our_broker(pid: int, files: BrokerFiles) -> bool:
    """The pid is a Kafka broker started on this lake's config (not a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _alive(pid)
    return MAIN_CLASS.encode() in cmdline and str(files.config).encode() in cmdline


def read_state(lake: Lake) -> BrokerInfo | None:
    """The broker running on this lake, or None (a stale pid file is removed)."""
    files = BrokerFiles.of(lake)
    if not files.state.exists():
        return None
    try:
        info = BrokerInfo(**json.loads(files.state.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        info = None
    if info is not None and _alive(info.pid) and _is_our_broker(info.pid, files):
        return info
    files.state.unlink(missing_ok=True)
    files.pid.unlink(missing_ok=True)
    return None


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def wait_ready(
    bootstrap: str,
    *,
    timeout: float = DEFAULT_READY_TIMEOUT,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
) -> None:
    """Poll with metadata requests until the broker answers, it exits, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    admin = admin_client(bootstrap)
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SmartgridError(
                f"the Kafka broker exited with code {process.returncode} before it was ready"
                + (f"; the end of {log}:\n{_tail(log)}" if log else "")
            )
        try:
            wait = min(5.0, max(0.5, deadline - time.monotonic()))
            meta = metadata(bootstrap, timeout=wait, admin=admin)
            if meta.brokers:
                return
        except Exception as exc:  # KafkaException while the broker is starting
            last = exc
    raise SmartgridError(
        f"the Kafka broker at {bootstrap} did not answer a metadata request within {timeout:.0f} s"
        + (f" ({last})" if last else "")
        + (f"; see {log}" if log else "")
    )


# --------------------------------------------------------------------------------------------
# Start, stop, status
# --------------------------------------------------------------------------------------------


def start(
    lake: Lake,
    *,
    port: int = DEFAULT_PORT,
    controller_port: int | None = None,
    partitions: int = DEFAULT_PARTITIONS,
    timeout: float = DEFAULT_READY_TIMEOUT,
    quiet: bool = False,
) -> tuple[BrokerInfo, subprocess.Popen | None]:
    """Start the broker on ``127.0.0.1:port`` and wait until it answers.

    Returns its info and, when this call started it, the ``Popen`` (None when it was already
    running on this lake at that port). Refuses a taken port, naming it, before starting Java.
    """
    files = BrokerFiles.of(lake)
    running = read_state(lake)
    if running is not None:
        if running.port != port:
            raise SmartgridError(
                f"a Kafka broker already runs on this lake at {running.bootstrap} (pid "
                f"{running.pid}); stop it first (smartgrid kafka stop) to use port {port}"
            )
        wait_ready(running.bootstrap, timeout=timeout, log=files.log)
        return running, None
    if partitions < 1:
        raise SmartgridError(f"--partitions {partitions} must be at least 1")
    if not port_is_free(port):
        raise SmartgridError(
            f"port {port} on {HOST} is already in use (another Kafka broker or another program): "
            "stop it, or pick another one with --port"
        )
    if controller_port is None:
        controller_port = free_port()
    elif controller_port == port or not port_is_free(controller_port):
        raise SmartgridError(f"the KRaft controller port {controller_port} is already in use")
    jars = ensure_jars(quiet=quiet)
    files.root.mkdir(parents=True, exist_ok=True)
    files.config.write_text(render_config(files, port, controller_port, partitions), "utf-8")
    format_storage(files, jars)
    command = [
        _java(),
        *JVM_OPTIONS,
        f"-Dlog4j2.configurationFile={LOG_CONFIG}",
        f"-Dkafka.logs.dir={files.root}",
        "-cp",
        _classpath(jars),
        MAIN_CLASS,
        str(files.config),
    ]
    with open(files.log, "ab") as log:
        # A session of its own: Ctrl-C in the terminal that ran `kafka start` does not reach it.
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=files.root,
        )
    info = BrokerInfo(pid=process.pid, port=port, controller_port=controller_port)
    files.pid.write_text(f"{process.pid}\n", encoding="utf-8")
    files.state.write_text(json.dumps(asdict(info)) + "\n", encoding="utf-8")
    try:
        wait_ready(info.bootstrap, timeout=timeout, process=process, log=files.log)
    except BaseException:
        _terminate(process.pid, DEFAULT_STOP_TIMEOUT, process)
        files.state.unlink(missing_ok=True)
        files.pid.unlink(missing_ok=True)
        raise
    return info, process


def _terminate(pid: int, timeout: float, process: subprocess.Popen | None = None) -> bool:
    """SIGTERM (Kafka shuts down cleanly), SIGKILL after ``timeout``; True if it had to kill."""

    def gone(wait: float) -> bool:
        if process is not None:
            try:
                process.wait(wait)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + wait
        while _alive(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)  # polling another process's exit: no handle to wait on
        return True

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if gone(timeout):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    gone(10.0)
    return True


def stop(
    lake: Lake, *, timeout: float = DEFAULT_STOP_TIMEOUT, process: subprocess.Popen | None = None
) -> BrokerInfo | None:
    """Stop the lake's broker; returns what was stopped, or None when none was running."""
    files = BrokerFiles.of(lake)
    info = read_state(lake)
    if info is None:
        return None
    _terminate(info.pid, timeout, process)
    files.state.unlink(missing_ok=True)
    files.pid.unlink(missing_ok=True)
    return info


@dataclass(frozen=True)
class BrokerStatus:
    info: BrokerInfo | None
    topics: dict[str, int]  # topic -> partitions (internal topics left out)
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.info is not None and self.error is None


def status(lake: Lake, *, timeout: float = 5.0) -> BrokerStatus:
    info = read_state(lake)
    if info is None:
        return BrokerStatus(None, {})
    try:
        meta = metadata(info.bootstrap, timeout=timeout)
    except Exception as exc:
        return BrokerStatus(info, {}, f"no answer to a metadata request: {exc}")
    topics = {
        name: len(topic.partitions)
        for name, topic in sorted(meta.topics.items())
        if not name.startswith("__")
    }
    return BrokerStatus(info, topics)


@contextlib.contextmanager
def running_broker(
    lake: Lake, port: int | None = None, *, partitions: int = DEFAULT_PARTITIONS
) -> Iterator[BrokerInfo]:
    """A broker on 127.0.0.1 (a free port unless given) for the block; stopped afterwards."""
    info, process = start(lake, port=port or free_port(), partitions=partitions, quiet=True)
    try:
        yield info
    finally:
        if process is not None:  # stop only what this block started
            stop(lake, process=process)


@contextlib.contextmanager
def broker_for(lake: Lake, port: int = DEFAULT_PORT) -> Iterator[tuple[BrokerInfo, bool]]:
    """The lake's broker: the running one, or one started (and stopped afterwards) for the block.

    Yields the broker and whether this block started it (the demo's ``--source kafka``).
    """
    running = read_state(lake)
    if running is not None:
        wait_ready(running.bootstrap, timeout=30)
        yield running, False
        return
    info, process = start(lake, port=port)
    try:
        yield info, True
    finally:
        stop(lake, process=process)
