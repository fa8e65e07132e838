"""Configuration of the ingest job: where it reads and where it writes.

``IngestConfig``, a frozen dataclass checked when it is built so that a bad option is refused
before Spark starts: source (local landing directory or Kafka / Event Hubs), trigger, rate
limits, table and checkpoint locations (defaults from the ``Lake``; any of them may be an
abfss:// URI). What an event must be to pass is ``ingest.rules.ValidationConfig``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake
from smartgrid.secrets import Secret, reveal

SOURCES = ("local", "kafka")
TRIGGERS = ("available-now", "continuous")
STARTING_OFFSETS = ("earliest", "latest")

DEFAULT_INTERVAL_SECONDS = 5.0
# How long the Kafka client may wait for a broker before the ingest fails (--kafka-timeout).
# The client's own defaults (60 s per API call, retried) take minutes to give up.
DEFAULT_KAFKA_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class IngestConfig:
    """Everything the ingest job needs; refused at construction when inconsistent."""

    lake: Lake
    source: str = "local"
    trigger: str = "available-now"
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS
    max_files_per_trigger: int | None = None
    max_offsets_per_trigger: int | None = None
    starting_offsets: str | None = None  # kafka only; default earliest
    # Locations; None means the lake's default (see the properties below).
    landing_path: str | None = None
    raw_path: str | None = None
    validated_path: str | None = None
    quarantine_path: str | None = None
    checkpoint_path: str | None = None
    # Kafka / Event Hubs.
    kafka_bootstrap: str | None = None
    topic: str | None = None
    kafka_options: tuple[tuple[str, str | Secret], ...] = ()
    # Bound on waiting for a broker: the pre-flight connect and the client timeouts derive from it.
    kafka_timeout_seconds: float = DEFAULT_KAFKA_TIMEOUT_SECONDS
    # Spark: driver memory for a job that starts its own session (None: SMARTGRID_DRIVER_MEMORY).
    driver_memory: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.lake, Lake):
            raise SmartgridError("IngestConfig.lake must be a smartgrid.lake.Lake")
        if self.source not in SOURCES:
            raise SmartgridError(
                f"--source must be one of {', '.join(SOURCES)}, got {self.source!r}"
            )
        if self.trigger not in TRIGGERS:
            raise SmartgridError(
                f"--trigger must be one of {', '.join(TRIGGERS)}, got {self.trigger!r}"
            )
        if not (math.isfinite(self.interval_seconds) and self.interval_seconds > 0):
            raise SmartgridError(f"--interval must be positive, got {self.interval_seconds!r}")
        if not (math.isfinite(self.kafka_timeout_seconds) and self.kafka_timeout_seconds >= 1):
            raise SmartgridError(
                f"--kafka-timeout must be 1 s or more, got {self.kafka_timeout_seconds!r}"
            )
        for option, value in (
            ("--max-files-per-trigger", self.max_files_per_trigger),
            ("--max-offsets-per-trigger", self.max_offsets_per_trigger),
        ):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise SmartgridError(f"{option} must be a positive integer, got {value!r}")
        if self.source == "local":
            if self.max_offsets_per_trigger is not None:
                raise SmartgridError(
                    "--max-offsets-per-trigger applies to --source kafka; "
                    "use --max-files-per-trigger"
                )
            for option, value in (
                ("--starting-offsets", self.starting_offsets),
                ("--kafka-bootstrap", self.kafka_bootstrap),
                ("--topic", self.topic),
            ):
                if value is not None:
                    raise SmartgridError(f"{option} applies to --source kafka only")
        else:
            if self.max_files_per_trigger is not None:
                raise SmartgridError(
                    "--max-files-per-trigger applies to --source local; "
                    "use --max-offsets-per-trigger"
                )
            if not self.kafka_bootstrap:
                raise SmartgridError(
                    "--source kafka needs --kafka-bootstrap HOST:PORT, or EVENTHUB_CONNECTION_STR "
                    "(and EVENTHUB_NAMESPACE) for Azure Event Hubs"
                )
            if not self.topic:
                raise SmartgridError(
                    "--source kafka needs --topic (the event hub name; or set EVENTHUB_NAME)"
                )
            offsets = self.starting_offsets
            if (
                offsets is not None
                and offsets not in STARTING_OFFSETS
                and not offsets.lstrip().startswith("{")
            ):
                raise SmartgridError(
                    "--starting-offsets must be earliest, latest or a JSON object of offsets, "
                    f"got {offsets!r}"
                )
        paths = {
            "raw": self.raw,
            "validated": self.validated,
            "quarantine": self.quarantine,
            "checkpoint": self.checkpoint,
        }
        if len(set(paths.values())) != len(paths):
            raise SmartgridError(f"table and checkpoint locations must differ: {paths}")

    # Resolved locations.
    @property
    def landing(self) -> str:
        return self.landing_path or self.lake.landing

    @property
    def raw(self) -> str:
        return self.raw_path or self.lake.raw

    @property
    def validated(self) -> str:
        return self.validated_path or self.lake.validated

    @property
    def quarantine(self) -> str:
        return self.quarantine_path or self.lake.quarantine

    @property
    def checkpoint(self) -> str:
        # One checkpoint per source: a Kafka run must not resume from a file source's offsets.
        return self.checkpoint_path or self.lake.path("checkpoints", "ingest", self.source)

    @property
    def spark_trigger(self) -> dict[str, Any]:
        if self.trigger == "available-now":
            return {"availableNow": True}
        return {"processingTime": f"{round(self.interval_seconds * 1000)} milliseconds"}

    def kafka_timeout_options(self) -> dict[str, str]:
        """Client timeouts from ``kafka_timeout_seconds`` (T), so that no broker fails in ~T.

        Each Kafka API call (listing offsets, describing the topic) gives up after T/2 and Spark
        retries it once (``fetchOffset.numRetries``); one request waits at most T/2, a
        connection attempt 5 s (growing to T/2); a consumer poll waits at most T. An explicit
        ``kafka.*`` option (e.g. Event Hubs' recommended timeouts) still wins.
        """
        total = round(self.kafka_timeout_seconds * 1000)
        half = max(500, total // 2)
        return {
            "kafka.default.api.timeout.ms": str(half),
            "kafka.request.timeout.ms": str(half),
            "kafka.socket.connection.setup.timeout.ms": str(min(5000, half)),
            "kafka.socket.connection.setup.timeout.max.ms": str(half),
            "fetchOffset.numRetries": "1",
            "kafkaConsumer.pollTimeoutMs": str(total),
        }

    def kafka_reader_options(self) -> dict[str, str]:
        """The Kafka source options, secrets revealed: pass straight to Spark, never log."""
        options = {
            "kafka.bootstrap.servers": self.kafka_bootstrap or "",
            "subscribe": self.topic or "",
            "startingOffsets": self.starting_offsets or "earliest",
            # Retention can drop events before a stopped job restarts: fail loudly, not silently.
            "failOnDataLoss": "true",
        }
        if self.max_offsets_per_trigger is not None:
            options["maxOffsetsPerTrigger"] = str(self.max_offsets_per_trigger)
        options.update(self.kafka_timeout_options())
        options.update({key: reveal(value) for key, value in self.kafka_options})
        return options
