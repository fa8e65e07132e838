"""Kafka, through confluent-kafka (librdkafka): a local broker, or Azure Event Hubs' Kafka endpoint.

- Configuration (``KafkaConfig.from_env``): ``--kafka-bootstrap``/``--topic``, else
  ``KAFKA_BOOTSTRAP_SERVERS``/``KAFKA_TOPIC``; or, for Event Hubs, ``EVENTHUB_CONNECTION_STR``
  (+ ``EVENTHUB_NAME``, else the connection string's ``EntityPath``): bootstrap
  ``<namespace>.servicebus.windows.net:9093``, SASL_SSL + PLAIN, user ``$ConnectionString``,
  password the connection string, and Event Hubs' recommended client settings.
- Each event's key is its meter id, so a meter's readings land on one partition, in order.
- Idempotent producer (``enable.idempotence``: acks=all, no duplicates or reordering from the
  client's own retries); batching tuned for throughput (``linger.ms``, ``batch.size``) and
  batches compressed (lz4 by default; ``KAFKA_COMPRESSION_TYPE`` overrides it).
- Delivery reports are counted: ``delivered`` is what the broker acknowledged; failures are
  collected and raised by ``flush``/``close`` (count + first error), never dropped silently.
- ``close`` flushes (Ctrl-C in the send loop closes the sink), within ``close_timeout``.
- The connection string is never printed or logged: it is kept out of ``repr``, ``describe`` and
  every error text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from producer.events import EventBatch
from smartgrid import eventhubs
from smartgrid.errors import SmartgridError

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
TOPIC_ENV = "KAFKA_TOPIC"
COMPRESSION_ENV = "KAFKA_COMPRESSION_TYPE"
CONNECTION_ENV = eventhubs.CONNECTION_ENV
NAME_ENV = eventhubs.NAME_ENV
EVENTHUBS_PORT = eventhubs.KAFKA_PORT
EVENTHUBS_USERNAME = eventhubs.KAFKA_USERNAME
COMPRESSION_TYPES = ("none", "gzip", "snappy", "lz4", "zstd")

# librdkafka logs each failed connection attempt (many a second while a broker is away). Its
# logs go to this logger, which is kept out of the console: failures reach the user as one clear
# error (the reachability check, delivery reports). Attach a handler to it to debug a client.
CLIENT_LOG = logging.getLogger("producer.sinks.kafka.librdkafka")
CLIENT_LOG.addHandler(logging.NullHandler())
CLIENT_LOG.propagate = False

_BOOTSTRAP = re.compile(r"^[A-Za-z0-9._-]+:\d{1,5}(,[A-Za-z0-9._-]+:\d{1,5})*$")
# Kafka's own rule for topic names (and Event Hubs names are a subset).
_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


@dataclass(frozen=True)
class KafkaConfig:
    bootstrap_servers: str
    topic: str
    # Event Hubs: the connection string is the SASL password (None for a plain broker).
    connection_str: str | None = field(default=None, repr=False)
    # Batching: wait up to linger_ms to fill batches of up to batch_bytes, then compress them.
    linger_ms: int = 20
    batch_bytes: int = 1_000_000
    compression_type: str = "lz4"
    # Events waiting in librdkafka's queue (memory bound; send() waits when it is full).
    queue_max_messages: int = 500_000
    delivery_timeout_ms: int = 120_000
    connect_timeout: float = 15.0
    close_timeout: float = 150.0

    def __post_init__(self) -> None:
        if not self.bootstrap_servers or not _BOOTSTRAP.match(self.bootstrap_servers):
            raise SmartgridError(
                f"the kafka sink needs a bootstrap HOST:PORT (--kafka-bootstrap or {BOOTSTRAP_ENV}), "
                f"got {self.bootstrap_servers!r}"
            )
        if not self.topic:
            raise SmartgridError(
                f"the kafka sink needs a topic: --topic, {TOPIC_ENV}, or {NAME_ENV} for Event Hubs"
            )
        if not _TOPIC.match(self.topic) or self.topic in (".", ".."):
            raise SmartgridError(
                f"topic {self.topic!r} is not a valid Kafka topic name (letters, digits, . _ -)"
            )
        if self.compression_type not in COMPRESSION_TYPES:
            raise SmartgridError(
                f"{COMPRESSION_ENV}={self.compression_type!r}: choose from {', '.join(COMPRESSION_TYPES)}"
            )
        for name in ("linger_ms", "batch_bytes", "queue_max_messages", "delivery_timeout_ms"):
            if getattr(self, name) < (0 if name == "linger_ms" else 1):
                raise SmartgridError(f"kafka sink: {name} {getattr(self, name)} is out of range")

    @property
    def eventhubs(self) -> bool:
        return self.connection_str is not None

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str],
        *,
        bootstrap: str | None = None,
        topic: str | None = None,
        **overrides: Any,
    ) -> KafkaConfig:
        """Options win over the environment; an Event Hubs connection string turns on SASL_SSL."""
        bootstrap = bootstrap or environ.get(BOOTSTRAP_ENV) or None
        connection = (environ.get(CONNECTION_ENV) or "").strip() or None
        topic = topic or environ.get(TOPIC_ENV) or environ.get(NAME_ENV) or None
        if COMPRESSION_ENV in environ and "compression_type" not in overrides:
            overrides["compression_type"] = environ[COMPRESSION_ENV].strip().lower()
        use_eventhubs = connection is not None and (
            bootstrap is None or ".servicebus." in bootstrap
        )
        if not use_eventhubs:
            return cls(bootstrap_servers=bootstrap or "", topic=topic or "", **overrides)
        eventhubs.check_connection_string(connection)
        if bootstrap is None:
            host = eventhubs.endpoint_host(connection)
            if not host:
                raise SmartgridError(
                    f"{CONNECTION_ENV} names no Endpoint=sb://<namespace>.servicebus.windows.net/"
                )
            bootstrap = f"{host}:{EVENTHUBS_PORT}"
        if topic is None:
            topic = eventhubs.entity_path(connection)
        # Event Hubs' Kafka endpoint: compression is not on every tier; no compression unless asked.
        overrides.setdefault("compression_type", "none")
        return cls(
            bootstrap_servers=bootstrap, topic=topic or "", connection_str=connection, **overrides
        )

    def producer_config(self) -> dict[str, Any]:
        """librdkafka settings, the secret included: hand to the Producer only, never log."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "enable.idempotence": True,  # implies acks=all and ordered, duplicate-free retries
            "acks": "all",
            "linger.ms": self.linger_ms,
            "batch.size": self.batch_bytes,
            "batch.num.messages": 100_000,
            "compression.type": self.compression_type,
            "queue.buffering.max.messages": self.queue_max_messages,
            "delivery.timeout.ms": self.delivery_timeout_ms,
            # Murmur2 like the Java client: a meter maps to the same partition from any client.
            "partitioner": "murmur2_random",
            "client.id": "smartgrid-producer",
        }
        if self.eventhubs:
            config.update(
                {
                    "security.protocol": "SASL_SSL",
                    "sasl.mechanism": "PLAIN",
                    "sasl.username": EVENTHUBS_USERNAME,
                    "sasl.password": self.connection_str,
                    # Event Hubs' recommendations for Kafka clients: requests under 1 MB,
                    # connections recycled before its 240 s idle cut-off, generous timeouts.
                    "message.max.bytes": 1_000_000,
                    "batch.size": min(self.batch_bytes, 1_000_000),
                    "metadata.max.age.ms": 180_000,
                    "connections.max.idle.ms": 180_000,
                    "socket.keepalive.enable": True,
                    "request.timeout.ms": 60_000,
                }
            )
        return config

    def describe(self) -> str:
        where = "Event Hubs Kafka endpoint" if self.eventhubs else "Kafka"
        return f"topic {self.topic!r} at {self.bootstrap_servers} ({where})"

    def redact(self, text: str) -> str:
        return eventhubs.redact(text, self.connection_str)


def create_producer(config: KafkaConfig, on_delivery) -> Any:
    from confluent_kafka import Producer

    return Producer({**config.producer_config(), "on_delivery": on_delivery}, logger=CLIENT_LOG)


class KafkaSink:
    name = "kafka"

    def __init__(self, config: KafkaConfig, producer_factory=create_producer) -> None:
        self.config = config
        self.acknowledged = 0
        self.failed = 0
        self.accepted = 0
        self._first_error: str | None = None
        self._reported_failures = 0
        self._closed = False
        self._producer = producer_factory(config, self._on_delivery)
        self._check_reachable()

    def __repr__(self) -> str:
        return (
            f"KafkaSink(topic={self.config.topic!r}, bootstrap={self.config.bootstrap_servers!r})"
        )

    def _check_reachable(self) -> None:
        """A metadata request now: an unreachable broker is one clear error before any work."""
        try:
            meta = self._producer.list_topics(
                self.config.topic, timeout=self.config.connect_timeout
            )
        except Exception as exc:
            raise SmartgridError(
                f"cannot reach Kafka at {self.config.bootstrap_servers} within "
                f"{self.config.connect_timeout:g} s: {self.config.redact(str(exc))}"
            ) from None
        from confluent_kafka import KafkaError

        topic = meta.topics.get(self.config.topic)
        error = topic.error if topic is not None else None
        if error is None:
            return
        # A local broker creates a missing topic on first use; Event Hubs never does.
        missing = error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
        if missing and not self.config.eventhubs:
            return
        what = "does not exist (create the event hub first)" if missing else str(error)
        raise SmartgridError(f"Kafka topic {self.config.topic!r} {self.config.redact(what)}")

    def _on_delivery(self, err, _msg) -> None:
        # Called by librdkafka (from poll/flush) once per event: the delivery report.
        if err is None:
            self.acknowledged += 1
        else:
            self.failed += 1
            if self._first_error is None:
                self._first_error = self.config.redact(str(err))

    @property
    def delivered(self) -> int:
        return self.acknowledged

    def describe(self) -> str:
        failed = f", {self.failed:,} failed" if self.failed else ""
        return f"{self.config.describe()}, {self.acknowledged:,} acknowledged{failed}"

    def send(self, batch: EventBatch) -> None:
        from confluent_kafka import KafkaException

        produce = self._producer.produce
        poll = self._producer.poll
        topic = self.config.topic
        try:
            for body, key in zip(batch.bodies(), batch.partition_keys(), strict=True):
                while True:
                    try:
                        produce(topic, body, key or None)
                        break
                    except BufferError:  # the local queue is full: serve delivery reports
                        poll(0.05)
        except KafkaException as exc:
            raise SmartgridError(
                f"Kafka refused an event for topic {topic!r}: {self.config.redact(str(exc))}"
            ) from None
        self.accepted += len(batch)
        poll(0)  # serve the delivery reports that are ready
        self._raise_failures()

    def flush(self) -> None:
        remaining = self._producer.flush(self.config.close_timeout)
        self._raise_failures()
        if remaining:
            raise SmartgridError(
                f"{remaining:,} event(s) were not acknowledged by Kafka at "
                f"{self.config.bootstrap_servers} within {self.config.close_timeout:g} s"
            )

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.flush()

    def _raise_failures(self) -> None:
        if self.failed > self._reported_failures:
            self._reported_failures = self.failed
            raise SmartgridError(
                f"{self.failed:,} event(s) were not delivered to Kafka topic "
                f"{self.config.topic!r}; first error: {self._first_error}"
            )
