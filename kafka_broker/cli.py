"""``smartgrid kafka start|stop|status``: the local Kafka broker (KRaft, a plain Java process).

The broker keeps its data under ``<lake>/kafka/``; see kafka_broker/.
"""

from __future__ import annotations

import argparse

from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake
from smartgrid.lake_checks import Need
from smartgrid.options import positive_float, positive_int


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from kafka_broker import (
        DEFAULT_PARTITIONS,
        DEFAULT_PORT,
        DEFAULT_READY_TIMEOUT,
        DEFAULT_STOP_TIMEOUT,
    )

    kafka = subparsers.add_parser(
        "kafka",
        parents=[common],
        help="start, stop or inspect a local Kafka broker (stands in for Event Hubs' Kafka endpoint)",
        description="A single-node Apache Kafka broker in KRaft mode on 127.0.0.1, run as a plain "
        "Java process with its data under <lake>/kafka/. Its jars are resolved from Maven Central "
        "(kafka/pom.xml, needs mvn) on the first start.",
    )
    actions = kafka.add_subparsers(dest="kafka_command", metavar="ACTION", required=True)

    start = actions.add_parser(
        "start", parents=[common], help="start the broker and wait until it answers"
    )
    start.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"listener port (default {DEFAULT_PORT})"
    )
    start.add_argument(
        "--partitions",
        type=positive_int,
        default=DEFAULT_PARTITIONS,
        help=f"partitions of auto-created topics (default {DEFAULT_PARTITIONS})",
    )
    start.add_argument("--topic", help="also create this topic (if it does not exist)")
    start.add_argument(
        "--timeout",
        type=positive_float,
        default=DEFAULT_READY_TIMEOUT,
        help=f"seconds to wait for the broker to answer (default {DEFAULT_READY_TIMEOUT:g})",
    )
    start.set_defaults(func=run_start, lake_need=Need.CREATE)

    stop = actions.add_parser("stop", parents=[common], help="stop the broker (SIGTERM, then wait)")
    stop.add_argument(
        "--timeout",
        type=positive_float,
        default=DEFAULT_STOP_TIMEOUT,
        help=f"seconds to wait for a clean shutdown before SIGKILL (default {DEFAULT_STOP_TIMEOUT:g})",
    )
    stop.set_defaults(func=run_stop, lake_need=Need.CREATE)

    status = actions.add_parser(
        "status", parents=[common], help="is it running; where; which topics (exit 3 if not)"
    )
    status.set_defaults(func=run_status, lake_need=Need.CREATE)


def run_start(args: argparse.Namespace) -> int:
    import kafka_broker

    if not 1 <= args.port <= 65535:
        raise SmartgridError(f"--port {args.port} must be between 1 and 65535")
    lake = Lake.resolve(args.lake)
    info, process = kafka_broker.start(
        lake, port=args.port, partitions=args.partitions, timeout=args.timeout
    )
    verb = "started" if process is not None else "already running"
    print(f"kafka {info.version} {verb}: bootstrap {info.bootstrap} (pid {info.pid})")
    print(f"  data and log: {kafka_broker.BrokerFiles.of(lake).root}")
    if args.topic:
        created = kafka_broker.create_topic(info.bootstrap, args.topic, args.partitions)
        print(f"  topic {args.topic!r}: {'created' if created else 'exists'}")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    import kafka_broker

    stopped = kafka_broker.stop(Lake.resolve(args.lake), timeout=args.timeout)
    if stopped is None:
        print("kafka: no broker running on this lake")
    else:
        print(f"kafka stopped (was pid {stopped.pid} at {stopped.bootstrap})")
    return 0


def run_status(args: argparse.Namespace) -> int:
    import kafka_broker

    lake = Lake.resolve(args.lake)
    state = kafka_broker.status(lake)
    if state.info is None:
        print("kafka: not running")
        return 3
    info = state.info
    if state.error:
        print(f"kafka: pid {info.pid} at {info.bootstrap} does not answer: {state.error}")
        return 1
    print(f"kafka {info.version}: running, bootstrap {info.bootstrap} (pid {info.pid})")
    print(f"  data and log: {kafka_broker.BrokerFiles.of(lake).root}")
    if state.topics:
        for topic, partitions in state.topics.items():
            print(f"  topic {topic}: {partitions} partition(s)")
    else:
        print("  no topics yet")
    return 0
