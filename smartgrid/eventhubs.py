"""Azure Event Hubs connection strings, read in one place (the producer's sinks and the ingest).

A connection string is ``Endpoint=sb://<namespace>.servicebus.windows.net/;
SharedAccessKeyName=<policy>;SharedAccessKey=<key>[;EntityPath=<hub>]``. It is a secret: the
errors here name the problem, never the value, and ``redact`` removes it from any text.
"""

from __future__ import annotations

import re

from smartgrid.errors import SmartgridError

CONNECTION_ENV = "EVENTHUB_CONNECTION_STR"
NAME_ENV = "EVENTHUB_NAME"
# Event Hubs' Kafka endpoint: <namespace>.servicebus.windows.net:9093, SASL PLAIN with this user.
KAFKA_PORT = 9093
KAFKA_USERNAME = "$ConnectionString"

_ENDPOINT = re.compile(r"(?:^|;)\s*Endpoint\s*=\s*sb://([^/;\s]+)", re.IGNORECASE)
_ENTITY_PATH = re.compile(r"(?:^|;)\s*EntityPath\s*=\s*([^;\s]+)", re.IGNORECASE)
_KEY = re.compile(r"SharedAccess(Key|Signature)", re.IGNORECASE)
_SECRET = re.compile(r"(SharedAccessKey|SharedAccessSignature)=[^;\s'\"]+", re.IGNORECASE)


def check_connection_string(connection: str) -> None:
    """Refuse what is not an Event Hubs connection string (the message names no value)."""
    if not _KEY.search(connection):
        raise SmartgridError(
            f"{CONNECTION_ENV} does not look like an Event Hubs connection string "
            "(expected Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...)"
        )


def endpoint_host(connection: str) -> str | None:
    """The namespace's host from ``Endpoint=sb://<host>/``, or None when there is none."""
    match = _ENDPOINT.search(connection)
    return match.group(1) if match else None


def entity_path(connection: str) -> str | None:
    """The event hub a hub-level connection string names (``EntityPath``), or None."""
    match = _ENTITY_PATH.search(connection)
    return match.group(1).strip() if match else None


def redact(text: str, connection: str | None = None) -> str:
    """``text`` without the connection string and without any key or signature value."""
    if connection:
        text = text.replace(connection, "<connection string>")
    return _SECRET.sub(r"\1=<redacted>", text)
