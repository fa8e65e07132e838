"""What a broker is and the files it keeps under ``<lake>/kafka``: ports, ``server.properties``
rendered from ``kafka/server.properties``, the KRaft cluster id."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path
from string import Template

from kafka_broker.jars import KAFKA_VERSION, TEMPLATE
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

HOST = "127.0.0.1"
DEFAULT_PORT = 9092
DEFAULT_PARTITIONS = 4
DEFAULT_READY_TIMEOUT = 90.0
DEFAULT_STOP_TIMEOUT = 30.0
# A small heap: the broker holds little here, and the machine is shared with Spark.
JVM_OPTIONS = ("-Xms128m", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true")
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"


@dataclass(frozen=True)
class BrokerInfo:
    """What a running broker is: its pid and where to reach it."""

    pid: int
    port: int
    controller_port: int
    version: str = KAFKA_VERSION

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"


# --------------------------------------------------------------------------------------------
# Files under <lake>/kafka
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerFiles:
    root: Path

    @classmethod
    def of(cls, lake: Lake) -> BrokerFiles:
        if not lake.is_local:
            raise SmartgridError(
                f"the local Kafka broker keeps its data under a local lake, not {lake.root}"
            )
        return cls(Path(lake.path("kafka").removeprefix("file:")))

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def config(self) -> Path:
        return self.root / "server.properties"

    @property
    def log(self) -> Path:
        return self.root / "broker.log"

    @property
    def pid(self) -> Path:
        return self.root / "broker.pid"

    @property
    def state(self) -> Path:
        return self.root / "broker.json"

    @property
    def cluster_id(self) -> Path:
        return self.root / "cluster.id"


def render_config(
    files: BrokerFiles, port: int, controller_port: int, partitions: int = DEFAULT_PARTITIONS
) -> str:
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        port=port,
        controller_port=controller_port,
        data_dir=str(files.data),
        partitions=partitions,
    )


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (as Uuid.toString)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka avoids ids that look like a command-line flag
            return text
