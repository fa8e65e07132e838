"""A local single-node Apache Kafka broker (KRaft mode, no ZooKeeper) as a plain Java process.

It stands in for Azure Event Hubs' Kafka endpoint on one machine, so the producer's ``kafka``
sink and the ingest job's ``kafka`` source run against a real broker.

- ``jars``: ``kafka/pom.xml`` names the broker (``org.apache.kafka:kafka_2.13``); the first start
  copies it and its runtime dependencies from Maven Central into ``kafka/lib/`` (git-ignored)
  with ``mvn dependency:copy-dependencies``, so ``make demo`` never pays for it unless the Kafka
  path is used. ``SMARTGRID_KAFKA_LIB`` points at a ready directory of jars instead.
- ``config``: ``<lake>/kafka/`` holds the rendered ``server.properties``, the partitions and
  KRaft metadata (``data/``, formatted by Kafka's StorageTool on first start), ``broker.log``,
  and ``broker.json`` (pid, ports) + ``broker.pid`` while it runs.
- ``process``: start refuses a taken port by name, before starting Java; ready means a real
  metadata request (confluent-kafka's AdminClient) answered; stop sends SIGTERM (Kafka's
  controlled shutdown) and waits, then SIGKILL after a timeout.
- ``topics``: metadata, create and recreate a topic.
- ``cli``: ``smartgrid kafka start|stop|status``.

``running_broker(lake)`` is the context manager tests use: a free port on 127.0.0.1, started and
stopped around the block. The names below are the package's API.
"""

from kafka_broker.config import (
    DEFAULT_PARTITIONS,
    DEFAULT_PORT,
    DEFAULT_READY_TIMEOUT,
    DEFAULT_STOP_TIMEOUT,
    HOST,
    BrokerFiles,
    BrokerInfo,
    new_cluster_id,
    render_config,
)
from kafka_broker.jars import KAFKA_VERSION, ensure_jars, lib_dir
from kafka_broker.process import (
    BrokerStatus,
    _alive,
    broker_for,
    free_port,
    port_is_free,
    read_state,
    running_broker,
    start,
    status,
    stop,
    wait_ready,
)
from kafka_broker.topics import admin_client, create_topic, metadata, recreate_topic

__all__ = [
    "DEFAULT_PARTITIONS",
    "DEFAULT_PORT",
    "DEFAULT_READY_TIMEOUT",
    "DEFAULT_STOP_TIMEOUT",
    "HOST",
    "KAFKA_VERSION",
    "BrokerFiles",
    "BrokerInfo",
    "BrokerStatus",
    "_alive",
    "admin_client",
    "broker_for",
    "create_topic",
    "ensure_jars",
    "free_port",
    "lib_dir",
    "metadata",
    "new_cluster_id",
    "port_is_free",
    "read_state",
    "recreate_topic",
    "render_config",
    "running_broker",
    "start",
    "status",
    "stop",
    "wait_ready",
]
