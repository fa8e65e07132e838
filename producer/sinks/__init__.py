"""Where events go: the local event hub (landing files), Azure Event Hubs, Kafka, or stdout."""

from __future__ import annotations

import os
from collections.abc import Mapping

from producer.sinks.base import Sink, StopSending
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

SINKS = ("local", "eventhubs", "kafka", "stdout")

__all__ = ["SINKS", "Sink", "StopSending", "make_sink"]


def make_sink(
    name: str,
    lake: Lake,
    *,
    batch_size: int = 50_000,
    environ: Mapping[str, str] | None = None,
    kafka_bootstrap: str | None = None,
    topic: str | None = None,
) -> Sink:
    """Build a sink by name; configuration problems are raised here, before any work starts.

    ``kafka_bootstrap`` and ``topic`` (kafka sink) win over the environment's settings.
    """
    if name == "local":
        from producer.sinks.local import LocalSink

        return LocalSink(lake, max_events_per_file=batch_size)
    if name == "eventhubs":
        from producer.sinks.eventhubs import EventHubsConfig, EventHubsSink

        return EventHubsSink(EventHubsConfig.from_env(os.environ if environ is None else environ))
    if name == "kafka":
        from producer.sinks.kafka import KafkaConfig, KafkaSink

        env = os.environ if environ is None else environ
        return KafkaSink(KafkaConfig.from_env(env, bootstrap=kafka_bootstrap, topic=topic))
    if name == "stdout":
        from producer.sinks.stdout import StdoutSink

        return StdoutSink()
    raise SmartgridError(f"unknown sink {name!r}: choose from {', '.join(SINKS)}")
