"""Fixtures of the Kafka tests: one real local broker (KRaft, a Java process) for the session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from kafka_broker import BrokerInfo, running_broker
from smartgrid.lake import Lake


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerInfo]:
    """A broker on a free port of 127.0.0.1 with its data in a temporary lake; stopped at the end."""
    lake = Lake.resolve(str(tmp_path_factory.mktemp("kafka_lake")))
    with running_broker(lake) as info:
        yield info


@pytest.fixture
def topic() -> str:
    """A topic name no other test uses."""
    return f"test-{uuid.uuid4().hex[:10]}"


def consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 60.0) -> list:
    """Read ``expected`` messages of ``topic`` from the beginning (fewer if ``timeout`` passes)."""
    import time

    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < expected and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=10_000, timeout=1.0):
                if message.error() is None:
                    messages.append(message)
    finally:
        consumer.close()
    return messages
