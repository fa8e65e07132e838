"""The producer's kafka sink against the real local broker, and its Event Hubs configuration.

Event Hubs' Kafka endpoint cannot be reached from here: its tests check the client settings the
sink builds from the environment and, with a fake producer at that edge, that the connection
string never appears in what the sink prints or raises.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import consume_all

from kafka_broker import create_topic
from producer.events import EventBatch
from producer.faults import parse_fault_spec
from producer.options import ProduceOptions
from producer.pacing import Pacing, SystemClock
from producer.run import produce
from producer.sending import Chunk, send_all
from producer.sinks import make_sink
from producer.sinks.kafka import KafkaConfig, KafkaSink
from smartgrid.errors import SmartgridError

# A fake key made at run time (no key-shaped literal in the repository; see make secret-scan).
SECRET_KEY = base64.b64encode(os.urandom(32)).decode()
CONNECTION = (
    "Endpoint=sb://contoso-grid.servicebus.windows.net/;SharedAccessKeyName=send;"
    f"SharedAccessKey={SECRET_KEY};EntityPath=meter-readings"
)


def _options(**overrides) -> ProduceOptions:
    values = {
        "meters": 12,
        "start": datetime(2025, 1, 1, tzinfo=timezone.utc),
        "duration": timedelta(hours=6),
        "interval": timedelta(minutes=15),
        "seed": 11,
        "faults": parse_fault_spec("duplicate=0.05,late=0.05,malformed=0.03"),
    }
    return ProduceOptions(**{**values, **overrides})


def test_events_are_keyed_by_meter_and_keep_their_order(kafka, topic, lake) -> None:
    create_topic(kafka.bootstrap, topic, 4)
    sink = make_sink("kafka", lake, kafka_bootstrap=kafka.bootstrap, topic=topic)
    summary = produce(_options(), lake, sink)
    assert summary.events_sent == sink.delivered == sink.accepted
    assert sink.failed == 0
    assert f"{summary.events_sent:,} acknowledged" in summary.destination

    messages = consume_all(kafka.bootstrap, topic, summary.events_sent)
    assert len(messages) == summary.events_sent
    got = defaultdict(list)
    partitions = defaultdict(set)
    for message in messages:
        key = message.key().decode() if message.key() else ""
        partitions[key].add(message.partition())
        got[key].append((message.partition(), message.offset(), message.value()))
    assert all(len(p) == 1 for p in partitions.values())  # one meter, one partition
    assert len({p for ps in partitions.values() for p in ps}) > 1  # spread over partitions
    assert {k for k in got if k.startswith("MTR-")} == {f"MTR-{i:06d}" for i in range(1, 13)}

    # The same events, in the same order per meter, as the local event hub gets for the options.
    local = produce(_options(), lake)  # local sink: landing files
    lines = b"".join(p.read_bytes() for p in sorted(Path(lake.landing).glob("*.jsonl")))
    sent = lines.splitlines()
    assert local.events_sent == len(sent) == len(messages)
    assert sorted(sent) == sorted(m.value() for m in messages)
    for items in got.values():
        bodies = [value for _, _, value in sorted(items)]
        mine = set(bodies)
        assert bodies == [line for line in sent if line in mine]


def test_delivery_failures_are_counted_and_raised(kafka, topic, lake) -> None:
    """The broker rejects events larger than the topic allows: the delivery reports say so, and
    closing the sink raises with the count instead of losing them silently."""
    from confluent_kafka.admin import NewTopic

    from kafka_broker import admin_client

    limit = {"max.message.bytes": "500"}  # bytes of a (compressed) record batch
    admin = admin_client(kafka.bootstrap)  # kept alive until the topic exists
    admin.create_topics([NewTopic(topic, 1, 1, config=limit)])[topic].result(30)
    sink = make_sink("kafka", lake, kafka_bootstrap=kafka.bootstrap, topic=topic)
    small = b'{"meter_id":"MTR-000001"}'
    noise = base64.b64encode(os.urandom(1500))  # incompressible: lz4 cannot bring it under 500
    large = b'{"meter_id":"MTR-000002","pad":"' + noise + b'"}'
    sink.send(EventBatch.from_lines([small + b"\n"], ["MTR-000001"]))
    sink.flush()
    sink.send(EventBatch.from_lines([large + b"\n"], ["MTR-000002"]))
    with pytest.raises(SmartgridError, match=r"1 event\(s\) were not delivered .*too large"):
        sink.close()
    assert (sink.delivered, sink.failed) == (1, 1)


def test_an_interrupt_flushes_what_was_accepted(kafka, topic, lake) -> None:
    create_topic(kafka.bootstrap, topic, 2)
    sink = make_sink("kafka", lake, kafka_bootstrap=kafka.bootstrap, topic=topic)
    lines = [b'{"meter_id":"MTR-%06d","n":%d}\n' % (i % 5, i) for i in range(5_000)]
    batch = EventBatch.from_lines(lines, [f"MTR-{i % 5:06d}" for i in range(5_000)])

    def chunks():
        yield Chunk(batch)
        raise KeyboardInterrupt  # Ctrl-C while the next chunk is being made

    result = send_all(chunks(), sink, pacing=Pacing(), clock=SystemClock())
    assert result.stopped == "interrupted"
    assert result.events == 5_000
    assert len(consume_all(kafka.bootstrap, topic, 5_000)) == 5_000


def test_unreachable_broker_is_one_clear_error_before_any_work(lake) -> None:
    with pytest.raises(SmartgridError, match=r"cannot reach Kafka at 127\.0\.0\.1:1 within"):
        KafkaSink(KafkaConfig("127.0.0.1:1", "t", connect_timeout=1.0))


def test_cli_produces_into_kafka(kafka, topic, lake) -> None:
    command = [
        sys.executable, "-m", "pipeline.cli", "produce", "--lake", lake.root,
        "--sink", "kafka", "--kafka-bootstrap", kafka.bootstrap, "--topic", topic,
        "--meters", "3", "--duration", "1h",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"topic '{topic}' at {kafka.bootstrap}" in done.stderr
    assert len(consume_all(kafka.bootstrap, topic, 12)) == 12


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--kafka-bootstrap", "127.0.0.1:9092"], "--kafka-bootstrap applies to --sink kafka only"),
        (["--sink", "kafka", "--topic", "t"], "needs a bootstrap HOST:PORT"),
        (["--sink", "kafka", "--kafka-bootstrap", "h:1", "--topic", "a/b"], "not a valid Kafka"),
    ],
)
def test_cli_refuses_bad_kafka_options(argv, message, lake, capsys, monkeypatch) -> None:
    from pipeline.cli import main

    for name in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_TOPIC", "EVENTHUB_CONNECTION_STR"):
        monkeypatch.delenv(name, raising=False)
    assert main(["produce", "--lake", lake.root, "--meters", "1", "--duration", "1h", *argv]) == 2
    assert message in capsys.readouterr().err


# --- Event Hubs' Kafka endpoint (configuration only: the service is out of reach) -------------


def test_eventhubs_settings_from_the_environment() -> None:
    config = KafkaConfig.from_env({"EVENTHUB_CONNECTION_STR": CONNECTION})
    assert config.bootstrap_servers == "contoso-grid.servicebus.windows.net:9093"
    assert config.topic == "meter-readings"  # from EntityPath
    settings = config.producer_config()
    assert settings["security.protocol"] == "SASL_SSL"
    assert settings["sasl.mechanism"] == "PLAIN"
    assert settings["sasl.username"] == "$ConnectionString"
    assert settings["sasl.password"] == CONNECTION
    assert settings["enable.idempotence"] is True
    assert settings["message.max.bytes"] <= 1_046_528  # Event Hubs closes larger requests

    named = KafkaConfig.from_env({"EVENTHUB_CONNECTION_STR": CONNECTION, "EVENTHUB_NAME": "hub2"})
    assert named.topic == "hub2"


def test_plain_kafka_settings_from_the_environment() -> None:
    config = KafkaConfig.from_env(
        {"KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092", "KAFKA_TOPIC": "t"}
    )
    settings = config.producer_config()
    assert "sasl.password" not in settings and "security.protocol" not in settings
    assert settings["compression.type"] == "lz4"
    assert settings["linger.ms"] > 0 and settings["enable.idempotence"] is True
    # Options win over the environment.
    assert KafkaConfig.from_env({"KAFKA_TOPIC": "t"}, bootstrap="h:1", topic="u").topic == "u"


class _FailingProducer:
    """Stands in for the Event Hubs endpoint: accepts metadata, fails every delivery."""

    def __init__(self, config: KafkaConfig, on_delivery) -> None:
        self.on_delivery = on_delivery
        self.queued = 0

    def list_topics(self, topic, timeout):
        return SimpleNamespace(topics={})

    def produce(self, topic, value, key) -> None:
        self.queued += 1

    def poll(self, timeout) -> int:
        return 0

    def flush(self, timeout) -> int:
        for _ in range(self.queued):
            self.on_delivery(Exception(f"SASL authentication failed for {CONNECTION}"), None)
        self.queued = 0
        return 0


def test_the_connection_string_is_never_printed() -> None:
    config = KafkaConfig.from_env({"EVENTHUB_CONNECTION_STR": CONNECTION})
    sink = KafkaSink(config, producer_factory=_FailingProducer)
    sink.send(EventBatch.from_lines([b"{}\n"], ["MTR-000001"]))
    with pytest.raises(SmartgridError) as raised:
        sink.close()
    shown = " ".join([str(raised.value), repr(sink), repr(config), sink.describe(), str(config)])
    assert "not delivered" in str(raised.value)
    assert SECRET_KEY not in shown
    assert CONNECTION not in shown


def test_cli_error_about_a_bad_connection_string_does_not_echo_it(lake, capsys, monkeypatch):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("EVENTHUB_CONNECTION_STR", f"Endpoint=sb://x/;Key={SECRET_KEY}")
    from pipeline.cli import main

    assert main(["produce", "--lake", lake.root, "--sink", "kafka", "--duration", "1h"]) == 2
    captured = capsys.readouterr()
    assert "does not look like an Event Hubs connection string" in captured.err
    assert SECRET_KEY not in captured.err + captured.out
