"""One line that names the cause of a failed ingest query.

A streaming query that fails reports its outermost exception (for Kafka: "Failed to create new
KafkaAdminClient"), while the cause a person can act on (the host that did not resolve, the
refused connection, the rejected credentials, the missing topic) is at the bottom of the Java
cause chain. ``failure_message`` walks the JVM stack trace's ``Caused by:`` lines to that root
cause and words it; the whole trace still goes to the command's log file.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable

from ingest.config import IngestConfig
from smartgrid.errors import SmartgridError

_CAUSED_BY = re.compile(r"^\s*Caused by: ([\w.$]+)(?:: (.*))?$")
_THROWABLE = re.compile(r"^([\w.$]+(?:Exception|Error|Throwable))(?:: (.*))?$")


def cause_chain(trace: str) -> list[tuple[str, str]]:
    """(class name, first message line) of each throwable in a Java stack trace, outermost first."""
    chain: list[tuple[str, str]] = []
    for line in trace.splitlines():
        match = _CAUSED_BY.match(line)
        if match is None and not chain:
            match = _THROWABLE.match(line.strip())
        if match is not None:
            chain.append((match.group(1), (match.group(2) or "").strip()))
    return chain


def java_trace(error: BaseException) -> str:
    """The JVM stack trace a pyspark exception carries ('' when it has none)."""
    return str(getattr(error, "_stackTrace", "") or "")


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _hosts(bootstrap: str) -> list[str]:
    hosts = []
    for server in bootstrap.split(","):
        server = server.strip()
        if server:
            host = server.rsplit(":", 1)[0] if ":" in server else server
            hosts.append(host.strip("[]"))
    return hosts


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return True


def _connect_one(server: str, timeout: float) -> str | None:
    """Why a TCP connection to one ``host:port`` fails, or None when it connects (or is not
    a host:port, or its host does not resolve: the Kafka client words that itself)."""
    host, _, port = server.rpartition(":")
    if not host or not port.isdigit():
        return None
    host = host.strip("[]")
    if not _resolves(host):
        return None
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return None
    except ConnectionRefusedError:
        return f"connection to {server} refused"
    except TimeoutError:
        return f"connection to {server} timed out after {timeout:g} s"
    except OSError as exc:
        return f"connection to {server} failed: {exc.strerror or type(exc).__name__}"


def _connect(bootstrap: str, timeout: float = 3.0) -> str | None:
    """Why a TCP connection to the first bootstrap server fails, or None when it connects."""
    return _connect_one(bootstrap.split(",")[0].strip(), timeout)


def unreachable_message(bootstrap: str, detail: str) -> str:
    return f"cannot reach Kafka at {bootstrap} ({detail}); is it running, and is the port open?"


def check_kafka_reachable(config: IngestConfig) -> None:
    """Pre-flight before Spark: refuse at once when no bootstrap server accepts a connection.

    A TCP connect to each server, each bounded by ``--kafka-timeout``; one that connects is
    enough (the client needs one). A host that does not resolve is left to the Kafka client,
    which fails at once and whose trace goes to the log.
    """
    if config.source != "kafka" or not config.kafka_bootstrap:
        return
    servers = [s.strip() for s in config.kafka_bootstrap.split(",") if s.strip()]
    reasons = []
    for server in servers:
        reason = _connect_one(server, config.kafka_timeout_seconds)
        if reason is None:
            return
        reasons.append(reason)
    raise SmartgridError(
        unreachable_message(config.kafka_bootstrap, "; ".join(reasons)), exit_code=1
    )


def kafka_failure(
    config: IngestConfig,
    chain: list[tuple[str, str]],
    *,
    resolves: Callable[[str], bool] = _resolves,
    connect: Callable[[str], str | None] = _connect,
) -> str | None:
    """A one-line reason for a Kafka / Event Hubs failure, from the cause chain; None if unknown."""
    if not chain:
        return None
    bootstrap = config.kafka_bootstrap or ""
    names = [_short(name) for name, _ in chain]
    messages = [message for _, message in chain]
    text = " ".join(messages).lower()
    root_name, root_message = names[-1], messages[-1]
    if "no resolvable bootstrap urls" in text or "UnknownHostException" in names:
        unresolved = [h for h in _hosts(bootstrap) if not resolves(h)]
        which = ", ".join(unresolved) if unresolved else bootstrap
        return (
            f"Kafka bootstrap host {which} does not resolve (DNS); check --kafka-bootstrap "
            "or EVENTHUB_NAMESPACE"
        )
    if any(n in ("SaslAuthenticationException", "AuthenticationException") for n in names) or (
        "authentication" in text and "failed" in text
    ):
        return (
            f"Kafka at {bootstrap} refused the credentials: {root_message or root_name} "
            "(check EVENTHUB_CONNECTION_STR or the SASL options)"
        )
    if "UnknownTopicOrPartitionException" in names or "does not exist" in text:
        return f"Kafka topic {config.topic!r} does not exist at {bootstrap}"
    if "TimeoutException" in names or "ConnectException" in names or "refused" in text:
        detail = connect(bootstrap) or f"no broker answered: {root_message or root_name}"
        return unreachable_message(bootstrap, detail)
    if any("kafka" in name.lower() for name, _ in chain):
        return f"Kafka at {bootstrap}: {root_name}: {root_message}".rstrip(": ")
    return None


def failure_message(config: IngestConfig, error: BaseException, first_line: str) -> str:
    """What to print for a failed ingest query: the root cause when it is known."""
    if config.source == "kafka":
        reason = kafka_failure(config, cause_chain(java_trace(error)))
        if reason is not None:
            return reason
    return f"ingest query failed: {first_line}"
