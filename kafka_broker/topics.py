"""Topic administration through confluent-kafka's AdminClient: metadata, create, recreate."""

from __future__ import annotations

import time

from kafka_broker.config import DEFAULT_PARTITIONS
from smartgrid.errors import SmartgridError


def admin_config(bootstrap: str) -> dict[str, str | int]:
    # librdkafka logs every refused connection to stderr; while polling a starting broker that
    # is expected, and the caller reports the outcome itself.
    return {"bootstrap.servers": bootstrap, "socket.timeout.ms": 5000, "log_level": 0}


def admin_client(bootstrap: str):
    from confluent_kafka.admin import AdminClient

    return AdminClient(admin_config(bootstrap))


def metadata(bootstrap: str, timeout: float = 5.0, *, admin=None):
    """A real metadata request (brokers and topics); raises when the broker does not answer."""
    return (admin or admin_client(bootstrap)).list_topics(timeout=timeout)


def create_topic(
    bootstrap: str, topic: str, partitions: int = DEFAULT_PARTITIONS, *, timeout: float = 30.0
) -> bool:
    """Create ``topic`` unless it exists; True when it was created."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import NewTopic

    admin = admin_client(bootstrap)
    future = admin.create_topics([NewTopic(topic, partitions, 1)], operation_timeout=timeout)[topic]
    try:
        future.result(timeout)
    except KafkaException as exc:
        if exc.args and exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
            return False
        raise SmartgridError(f"could not create topic {topic!r} at {bootstrap}: {exc}") from exc
    return True


def recreate_topic(
    bootstrap: str, topic: str, partitions: int = DEFAULT_PARTITIONS, *, timeout: float = 60.0
) -> None:
    """Delete ``topic`` if it exists and create it empty (a demo run starts from nothing)."""
    from confluent_kafka import KafkaError, KafkaException

    admin = admin_client(bootstrap)
    if topic in admin.list_topics(timeout=10).topics:
        try:
            admin.delete_topics([topic], operation_timeout=timeout)[topic].result(timeout)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise SmartgridError(f"could not delete topic {topic!r}: {exc}") from exc
    # Deletion completes asynchronously: creating too early is refused as "marked for deletion".
    deadline = time.monotonic() + timeout
    while True:
        try:
            create_topic(bootstrap, topic, partitions, timeout=10)
            return
        except SmartgridError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
