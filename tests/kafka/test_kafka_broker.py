"""The local Kafka broker: `smartgrid kafka start|status|stop`, a taken port, the jar resolver."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import kafka_broker
from pipeline.cli import main
from smartgrid.lake import Lake

ROOT = Path(__file__).resolve().parents[2]


def test_pom_resolves_the_version_the_code_names() -> None:
    pom = (ROOT / "kafka" / "pom.xml").read_text(encoding="utf-8")
    assert re.search(r"<kafka.version>([^<]+)</kafka.version>", pom).group(1) == (
        kafka_broker.KAFKA_VERSION
    )


def test_rendered_config_is_kraft_on_loopback_with_data_under_the_lake(tmp_path) -> None:
    files = kafka_broker.BrokerFiles.of(Lake.resolve(str(tmp_path / "lake")))
    text = kafka_broker.render_config(files, port=19092, controller_port=19093, partitions=3)
    config = dict(
        line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert config["process.roles"] == "broker,controller"
    assert "zookeeper.connect" not in config
    assert config["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert config["log.dirs"] == str(tmp_path / "lake" / "kafka" / "data")
    assert config["num.partitions"] == "3"


def test_cluster_ids_look_like_kafka_uuids() -> None:
    ids = {kafka_broker.new_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", i) for i in ids)


def test_start_status_stop_and_a_taken_port(tmp_path, capsys) -> None:
    """The CLI lifecycle on a broker of its own; a second start on the same port is refused by
    name before any Java starts, and stop leaves no process behind."""
    lake = str(tmp_path / "lake")
    other = str(tmp_path / "other")
    port = kafka_broker.free_port()

    assert main(["kafka", "status", "--lake", lake]) == 3
    assert "not running" in capsys.readouterr().out

    assert main(["kafka", "start", "--lake", lake, "--port", str(port), "--topic", "t1"]) == 0
    out = capsys.readouterr().out
    assert f"bootstrap 127.0.0.1:{port}" in out
    assert "topic 't1': created" in out
    info = kafka_broker.read_state(Lake.resolve(lake))
    assert info is not None and info.port == port
    assert (Path(lake) / "kafka" / "data" / "meta.properties").is_file()  # formatted (KRaft)
    try:
        assert main(["kafka", "status", "--lake", lake]) == 0
        out = capsys.readouterr().out
        assert "running" in out and "topic t1: 4 partition(s)" in out

        # Starting again on the same lake and port is a no-op that says so.
        assert main(["kafka", "start", "--lake", lake, "--port", str(port)]) == 0
        assert "already running" in capsys.readouterr().out

        # Another lake, same port: refused, naming the port, and nothing is started there.
        assert main(["kafka", "start", "--lake", other, "--port", str(port)]) == 2
        err = capsys.readouterr().err
        assert f"port {port} on 127.0.0.1 is already in use" in err
        assert kafka_broker.read_state(Lake.resolve(other)) is None
        assert not (Path(other) / "kafka" / "data").exists()
    finally:
        assert main(["kafka", "stop", "--lake", lake]) == 0
    assert f"was pid {info.pid}" in capsys.readouterr().out
    assert not kafka_broker._alive(info.pid)
    assert not (Path(lake) / "kafka" / "broker.pid").exists()
    assert kafka_broker.port_is_free(port)
    assert main(["kafka", "status", "--lake", lake]) == 3


def test_port_taken_by_another_program_is_named(tmp_path, capsys) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert main(["kafka", "start", "--lake", str(tmp_path), "--port", str(port)]) == 2
    assert f"port {port} on 127.0.0.1 is already in use" in capsys.readouterr().err
    assert not (tmp_path / "kafka" / "broker.pid").exists()


def test_the_session_broker_answers_metadata_requests(kafka) -> None:
    meta = kafka_broker.metadata(kafka.bootstrap, timeout=10)
    assert [b.port for b in meta.brokers.values()] == [kafka.port]


def test_create_topic_is_idempotent(kafka, topic) -> None:
    assert kafka_broker.create_topic(kafka.bootstrap, topic, 3) is True
    assert kafka_broker.create_topic(kafka.bootstrap, topic, 3) is False
    meta = kafka_broker.metadata(kafka.bootstrap)
    assert len(meta.topics[topic].partitions) == 3
