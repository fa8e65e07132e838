"""Issue 19, point 6: a Kafka / Event Hubs connection failure is one line naming the root cause.

Real Spark and its Kafka connector against endpoints that fail for real: a host that does not
resolve (``.invalid`` is reserved, RFC 2606) and a closed port on localhost. Kafka's client
timeouts are set low so that the failure comes in seconds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.config import IngestConfig
from ingest.failures import cause_chain, kafka_failure
from ingest.job import run_ingest
from smartgrid.errors import SmartgridError

FAST_FAILURE = (
    ("kafka.default.api.timeout.ms", "3000"),
    ("kafka.request.timeout.ms", "1500"),
    ("kafka.socket.connection.setup.timeout.ms", "500"),
    ("kafka.socket.connection.setup.timeout.max.ms", "1000"),
    ("fetchOffset.numRetries", "1"),
    ("fetchOffset.retryIntervalMs", "100"),
)
COMMAND = (sys.executable, "-m", "pipeline.cli", "ingest", "--source", "kafka", "--topic", "t")
ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unresolvable_host_is_one_line_naming_the_host(tmp_path) -> None:
    """The whole command: one ``error:`` line naming the host, no Java frame, the trace logged."""
    lake = tmp_path / "lake"
    result = subprocess.run(
        [*COMMAND, "--lake", str(lake), "--kafka-bootstrap", "nonexistent.invalid:9092"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode != 0
    err = result.stderr.strip().splitlines()
    assert len(err) == 1, result.stderr
    assert err[0].startswith(
        "error: Kafka bootstrap host nonexistent.invalid does not resolve (DNS)"
    )
    assert "KafkaAdminClient" not in result.stderr and "\tat " not in result.stderr
    log = (lake / "logs" / "ingest.log").read_text(encoding="utf-8")
    assert "Caused by:" in log and "\tat org.apache.kafka" in log


def test_closed_port_names_the_refused_connection(spark, lake) -> None:
    port = closed_port()
    config = IngestConfig(
        lake=lake,
        source="kafka",
        kafka_bootstrap=f"127.0.0.1:{port}",
        topic="t",
        kafka_options=FAST_FAILURE,
    )
    with pytest.raises(SmartgridError) as err:
        run_ingest(config, spark=spark)
    message = str(err.value)
    assert message == (
        f"cannot reach Kafka at 127.0.0.1:{port} (connection to 127.0.0.1:{port} refused); "
        "is it running, and is the port open?"
    )
    assert "\n" not in message


def test_the_chain_is_read_from_the_outermost_to_the_root() -> None:
    """The parsing on a hand-written trace, and the wording of each known cause."""
    trace = "\n".join(
        [
            "org.apache.spark.sql.streaming.StreamingQueryException: Query failed",
            "\tat org.apache.spark.Foo.bar(Foo.scala:1)",
            "Caused by: kafkashaded.org.apache.kafka.common.KafkaException: Failed to create",
            "\t... 3 more",
            "Caused by: kafkashaded.org.apache.kafka.common.errors.SaslAuthenticationException: "
            "Invalid SASL mechanism response",
        ]
    )
    chain = cause_chain(trace)
    assert [name.rsplit(".", 1)[-1] for name, _ in chain] == [
        "StreamingQueryException",
        "KafkaException",
        "SaslAuthenticationException",
    ]
    config = IngestConfig(
        lake=_lake(),
        source="kafka",
        kafka_bootstrap="ns.servicebus.windows.net:9093",
        topic="meters",
    )
    assert kafka_failure(config, chain).startswith(
        "Kafka at ns.servicebus.windows.net:9093 refused the credentials: "
        "Invalid SASL mechanism response"
    )
    missing = [("org.apache.kafka.common.errors.UnknownTopicOrPartitionException", "gone")]
    assert kafka_failure(config, missing) == (
        "Kafka topic 'meters' does not exist at ns.servicebus.windows.net:9093"
    )
    assert kafka_failure(config, [("java.lang.IllegalStateException", "x")]) is None


def _lake():
    from smartgrid.lake import Lake

    return Lake("/nonexistent-lake-for-a-config")


def test_a_closed_port_fails_in_one_line_before_spark_starts(tmp_path) -> None:
    """``--kafka-timeout``: the pre-flight connect refuses a dead address before any JVM starts.

    The whole command against a closed local port (a real socket): non-zero exit, one
    ``error:`` line naming the address, and no checkpoint or table created.
    """
    lake = tmp_path / "lake"
    port = closed_port()
    bootstrap = ("--kafka-bootstrap", f"127.0.0.1:{port}", "--kafka-timeout", "3s")
    result = subprocess.run(
        [*COMMAND, "--lake", str(lake), *bootstrap],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: cannot reach Kafka at 127.0.0.1:{port} (connection to 127.0.0.1:{port} "
        "refused); is it running, and is the port open?"
    ]
    assert not (lake / "checkpoints").exists() and not (lake / "raw").exists()


def test_the_kafka_timeout_comes_from_the_option_then_the_environment() -> None:
    from ingest.cli import KAFKA_TIMEOUT_ENV, config_from_args
    from pipeline.cli import build_parser

    argv = ["ingest", "--source", "kafka", "--kafka-bootstrap", "h:9092", "--topic", "t"]
    lake = ["--lake", "/nonexistent-lake-for-a-config"]
    parser = build_parser()
    config, _ = config_from_args(parser.parse_args([*argv, *lake]), env={})
    assert config.kafka_timeout_seconds == 30
    config, _ = config_from_args(parser.parse_args([*argv, *lake]), env={KAFKA_TIMEOUT_ENV: "8s"})
    assert config.kafka_timeout_seconds == 8
    args = parser.parse_args([*argv, *lake, "--kafka-timeout", "4s"])
    config, _ = config_from_args(args, env={KAFKA_TIMEOUT_ENV: "8s"})
    assert config.kafka_timeout_seconds == 4
    options = config.kafka_reader_options()
    # Every client wait is within the bound: one API call and its one retry, one poll.
    assert int(options["kafka.default.api.timeout.ms"]) * 2 <= 4000
    assert int(options["kafka.request.timeout.ms"]) <= 2000
    assert options["fetchOffset.numRetries"] == "1"
    assert int(options["kafkaConsumer.pollTimeoutMs"]) <= 4000
    with pytest.raises(SmartgridError, match="--kafka-timeout"):
        config_from_args(parser.parse_args([*argv, *lake, "--kafka-timeout", "0s"]), env={})


def test_a_broker_that_never_answers_fails_with_the_configured_timeouts(spark, lake) -> None:
    """A socket that accepts connections and never answers (a hung broker): the pre-flight
    connects, and the Kafka client's timeouts, derived from ``kafka_timeout_seconds``, end the
    query with one line (with the client's defaults this takes minutes)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        config = IngestConfig(
            lake=lake,
            source="kafka",
            kafka_bootstrap=f"127.0.0.1:{port}",
            topic="t",
            kafka_timeout_seconds=3,
        )
        with pytest.raises(SmartgridError) as err:
            run_ingest(config, spark=spark)
    message = str(err.value)
    assert message.startswith(f"cannot reach Kafka at 127.0.0.1:{port} (no broker answered: ")
    assert "\n" not in message
