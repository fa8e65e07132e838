"""Azure Event Hubs, through azure-eventhub's ``EventHubProducerClient`` (after the SDK samples).

- Configuration from the environment: ``EVENTHUB_CONNECTION_STR`` + ``EVENTHUB_NAME``, or
  ``EVENTHUB_FULLY_QUALIFIED_NAMESPACE`` + ``EVENTHUB_NAME`` with azure-identity's
  ``DefaultAzureCredential`` (managed identity, workload identity, az login...).
- One open ``EventDataBatch`` per partition key, the key being the meter id, so each meter's
  readings land on one partition in order. A batch is filled until ``add`` raises
  ``ValueError`` (full), then sent, and a new one started.
- Transient failures are retried by the SDK (``retry_total``, ``retry_backoff_factor``,
  ``retry_backoff_max``, ``retry_mode``); what still fails is raised, never dropped silently.
- ``flush`` sends every open batch; ``close`` flushes then closes the client, so Ctrl-C (which
  the runner turns into a close) loses nothing that was accepted.
- Memory stays bounded with many meters: when the open batches hold ``max_pending_events``
  in all, they are all sent (each meter's order is kept; a big fleet just sends smaller batches).
- The connection string is never printed or logged: it is kept out of ``repr`` and redacted
  from any error text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from producer.events import EventBatch
from smartgrid import eventhubs
from smartgrid.errors import SmartgridError

LOGGER = logging.getLogger(__name__)

CONNECTION_ENV = eventhubs.CONNECTION_ENV
NAME_ENV = eventhubs.NAME_ENV
NAMESPACE_ENV = "EVENTHUB_FULLY_QUALIFIED_NAMESPACE"


@dataclass(frozen=True)
class EventHubsConfig:
    eventhub_name: str
    connection_str: str | None = field(default=None, repr=False)
    fully_qualified_namespace: str | None = None
    retry_total: int = 3
    retry_backoff_factor: float = 0.8
    retry_backoff_max: float = 120.0
    retry_mode: str = "exponential"
    max_batch_bytes: int | None = None  # None: the largest the hub accepts (1 MB Standard)
    max_pending_events: int = 100_000  # across all open batches (one per meter)

    def __post_init__(self) -> None:
        if not self.connection_str and not self.fully_qualified_namespace:
            raise SmartgridError(
                f"the eventhubs sink needs {CONNECTION_ENV} (or {NAMESPACE_ENV} with an Azure AD "
                "credential) and EVENTHUB_NAME"
            )
        if not self.eventhub_name:
            raise SmartgridError(f"the eventhubs sink needs {NAME_ENV}: the event hub's name")
        if self.retry_total < 0:
            raise SmartgridError("retry_total must not be negative")
        if self.retry_mode not in ("exponential", "fixed"):
            raise SmartgridError("retry_mode must be 'exponential' or 'fixed'")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> EventHubsConfig:
        connection = environ.get(CONNECTION_ENV) or None
        name = environ.get(NAME_ENV, "")
        if connection and not name:
            # A connection string copied from the hub (not the namespace) names the hub itself.
            name = eventhubs.entity_path(connection) or ""
        return cls(
            eventhub_name=name,
            connection_str=connection,
            fully_qualified_namespace=environ.get(NAMESPACE_ENV) or None,
            **overrides,
        )

    def redact(self, text: str) -> str:
        return eventhubs.redact(text, self.connection_str)

    def client_kwargs(self) -> dict[str, Any]:
        return {
            "retry_total": self.retry_total,
            "retry_backoff_factor": self.retry_backoff_factor,
            "retry_backoff_max": self.retry_backoff_max,
            "retry_mode": self.retry_mode,
        }


def create_producer_client(config: EventHubsConfig) -> Any:
    """The real client; tests pass their own factory instead (the service is out of reach)."""
    from azure.eventhub import EventHubProducerClient

    if config.connection_str:
        return EventHubProducerClient.from_connection_string(
            config.connection_str, eventhub_name=config.eventhub_name, **config.client_kwargs()
        )
    from azure.identity import DefaultAzureCredential

    return EventHubProducerClient(
        fully_qualified_namespace=config.fully_qualified_namespace,
        eventhub_name=config.eventhub_name,
        credential=DefaultAzureCredential(),
        **config.client_kwargs(),
    )


class EventHubsSink:
    name = "eventhubs"

    def __init__(
        self,
        config: EventHubsConfig,
        client_factory: Callable[[EventHubsConfig], Any] = create_producer_client,
    ) -> None:
        from azure.eventhub import EventData

        self._event_data = EventData
        self.config = config
        self._client = client_factory(config)
        self._open: dict[str, Any] = {}  # partition key -> EventDataBatch being filled
        self._pending = 0  # events in the open batches
        self.batches_sent = 0
        self.events_sent = 0
        self._closed = False

    def __repr__(self) -> str:
        return f"EventHubsSink(eventhub_name={self.config.eventhub_name!r})"

    @property
    def delivered(self) -> int:
        return self.events_sent

    def describe(self) -> str:
        where = self.config.fully_qualified_namespace or "namespace from the connection string"
        return f"event hub {self.config.eventhub_name!r} ({where}), {self.batches_sent} batch(es)"

    def send(self, batch: EventBatch) -> None:
        event_data = self._event_data
        open_batches = self._open
        for body, key in zip(batch.bodies(), batch.partition_keys(), strict=True):
            event = event_data(body)
            current = open_batches.get(key)
            if current is None:
                current = open_batches[key] = self._new_batch(key)
            try:
                current.add(event)
            except ValueError:
                if len(current) == 0:
                    raise SmartgridError(
                        f"an event of meter {key!r} ({len(body)} bytes) is larger than an "
                        "Event Hubs batch may be"
                    ) from None
                self._send(key, current)
                current = open_batches[key] = self._new_batch(key)
                current.add(event)
            self._pending += 1
        if self._pending >= self.config.max_pending_events:
            self.flush()

    def flush(self) -> None:
        """Send every open batch; try them all, then report the ones that failed."""
        failures: list[SmartgridError] = []
        for key in list(self._open):
            current = self._open.pop(key)
            if len(current):
                try:
                    self._send(key, current)
                except SmartgridError as failure:
                    failures.append(failure)
        if failures:
            unsent = sum(len(b) for b in self._open.values())
            raise SmartgridError(
                f"{unsent} event(s) in {len(failures)} batch(es) were not sent; first: {failures[0]}"
            )

    def close(self) -> None:
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            self._client.close()

    def _new_batch(self, key: str) -> Any:
        return self._client.create_batch(
            partition_key=key, max_size_in_bytes=self.config.max_batch_bytes
        )

    def _send(self, key: str, batch: Any) -> None:
        try:
            self._client.send_batch(batch)
        except Exception as exc:
            # Put the batch back so a later flush (or the caller) can see what was not sent.
            self._open[key] = batch
            raise SmartgridError(
                f"Event Hubs did not accept a batch of {len(batch)} event(s) for meter {key!r} "
                f"after {self.config.retry_total} retries: "
                f"{type(exc).__name__}: {self.config.redact(str(exc))}"
            ) from None
        self.batches_sent += 1
        self.events_sent += len(batch)
        self._pending -= len(batch)
        LOGGER.debug("sent a batch of %d events for %s", len(batch), key)
