"""Sources: the landing directory of the embedded event hub, or Kafka / Azure Event Hubs.

Both give the same columns: ``body_bytes`` (the event's exact bytes as received), ``body`` (their
UTF-8 text, an invalid sequence replaced by U+FFFD) plus the lineage columns of
``ingest.tables`` except ``batch_id`` (added per micro-batch by the writer).

- ``local``: the landing directory (``<lake>/landing/*.jsonl``, JSON Lines, files renamed into
  place atomically). Each file is read whole and split into lines, so every event keeps its
  exact position (file path + 0-based line number): the identity that makes a replay
  recognisable. Hidden files (the producer's ``.tmp`` names) are skipped by Spark's listing.
- ``kafka``: Spark's built-in Kafka source; Azure Event Hubs through its Kafka endpoint
  (``eventhubs_kafka_options``), which is how Databricks reads Event Hubs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from ingest.config import IngestConfig
from smartgrid import eventhubs
from smartgrid.errors import SmartgridError
from smartgrid.secrets import Secret

LANDING_GLOB = "*.jsonl"
LATIN_1 = "ISO-8859-1"  # one character per byte, both ways
# The binaryFile source's fixed schema (a streaming source must be given one).
BINARY_FILE_SCHEMA = "path string, modificationTime timestamp, length long, content binary"

EVENTHUB_NAMESPACE_ENV = "EVENTHUB_NAMESPACE"
EVENTHUB_CONNECTION_STR_ENV = eventhubs.CONNECTION_ENV
EVENTHUB_NAME_ENV = eventhubs.NAME_ENV
EVENTHUBS_KAFKA_PORT = eventhubs.KAFKA_PORT
# Databricks Runtime ships the Kafka client shaded under `kafkashaded.`; open-source Spark's
# spark-sql-kafka connector uses the plain class name.
PLAIN_LOGIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
DATABRICKS_PLAIN_LOGIN_MODULE = "kafkashaded." + PLAIN_LOGIN_MODULE


def landing_lines(files: DataFrame) -> DataFrame:
    """Whole files (``value``, ``source_name``, ``source_timestamp``) -> one row per line.

    ``value`` is the file's bytes (binary), or its text (a string, read as UTF-8). Binary
    content is split as ISO-8859-1 text, which maps each byte to one character and back, so
    ``body_bytes`` holds each line's exact bytes and ``body`` their UTF-8 text (an invalid
    sequence becomes U+FFFD there; ``ingest.validation`` quarantines it as invalid_utf8).

    ``source_offset`` is the 0-based line number. The empty string after a file's final
    newline is not a line; an empty line inside a file is (it is quarantined as not_json).
    """
    binary = dict(files.dtypes)["value"] == "binary"
    text = F.decode("value", LATIN_1) if binary else F.col("value")
    # Split first, then drop the empty string after a final newline from the array: trimming
    # the newline off the file's text first walks the whole file (character counts) twice more.
    split = files.select("source_name", "source_timestamp", F.split(text, "\n", -1).alias("_lines"))
    lines = F.col("_lines")
    whole = F.when(F.element_at(lines, -1) == "", F.slice(lines, 1, F.size(lines) - 1)).otherwise(
        lines
    )
    exploded = split.select(
        "source_name",
        "source_timestamp",
        F.posexplode(whole).alias("source_offset", "_line"),
    )
    if binary:
        exploded = exploded.select("*", F.encode("_line", LATIN_1).alias("body_bytes"))
        body = F.make_valid_utf8(F.col("body_bytes").cast("string"))
    else:
        body = F.col("_line")
        exploded = exploded.select("*", F.encode("_line", "UTF-8").alias("body_bytes"))
    return exploded.select(
        body.alias("body"),
        "body_bytes",
        "source_name",
        F.lit(None).cast("int").alias("source_partition"),
        F.col("source_offset").cast("long").alias("source_offset"),
        "source_timestamp",
    )


def landing_source_path(landing: str) -> str:
    """The file source's path: a glob of the ``*.jsonl`` entries directly in the landing folder.

    Given the folder itself, Spark's file source lists it recursively and infers Hive partitions
    from sub-folder names: a sub-folder named like ``k=1/`` turns the files under it into data
    (partition column ``k``), and two such sub-folders with different names fail every batch
    (CONFLICTING_PARTITION_COLUMN_NAMES). A glob path lists only the matching entries, so other
    sub-folders are never listed (``ingest.landing`` warns about them).
    """
    return landing.rstrip("/") + "/" + LANDING_GLOB


def _path_depth(landing: str) -> int:
    """Number of segments in the landing folder's path (scheme and authority left out)."""
    parsed = urlparse(landing)
    if parsed.scheme and parsed.scheme != "file":
        path = parsed.path
    else:
        path = os.path.abspath(parsed.path if parsed.scheme else landing)
    return len([segment for segment in path.split("/") if segment])


def _file_depth(path_column: str) -> Column:
    """Number of segments in a file URI's path (``file:/a/b``, ``abfss://c@host/a/b``)."""
    path = F.regexp_replace(F.col(path_column), r"^[A-Za-z][A-Za-z0-9+.-]*:(//[^/]*)?", "")
    return F.size(F.filter(F.split(path, "/"), lambda segment: segment != ""))


def read_landing(spark: SparkSession, config: IngestConfig) -> DataFrame:
    """Streaming DataFrame of the landing directory's events, one row per line.

    Files are read as bytes (``binaryFile``) so that raw keeps exactly what landed. The source
    is the glob ``<landing>/*.jsonl`` with ``recursiveFileLookup``: no partition is inferred
    from any folder name. The glob still matches a *directory* named ``*.jsonl``, whose files
    Spark would then read: rows of a file that is not directly in the landing folder are
    dropped here (``ingest.landing`` reports the directory).
    """
    if config.lake.is_local and "://" not in config.landing:
        Path(config.landing).mkdir(parents=True, exist_ok=True)
    reader = (
        spark.readStream.format("binaryFile")
        .schema(BINARY_FILE_SCHEMA)
        .option("pathGlobFilter", LANDING_GLOB)
        .option("recursiveFileLookup", "true")
    )
    if config.max_files_per_trigger is not None:
        reader = reader.option("maxFilesPerTrigger", str(config.max_files_per_trigger))
    files = (
        reader.load(landing_source_path(config.landing))
        .select(
            F.col("content").alias("value"),
            F.col("_metadata.file_path").alias("source_name"),
            F.col("_metadata.file_modification_time").alias("source_timestamp"),
        )
        .where(_file_depth("source_name") == _path_depth(config.landing) + 1)
    )
    return landing_lines(files)


def read_kafka(spark: SparkSession, config: IngestConfig) -> DataFrame:
    """Streaming DataFrame of a Kafka topic (or event hub) with topic/partition/offset/timestamp."""
    stream = spark.readStream.format("kafka").options(**config.kafka_reader_options()).load()
    return stream.select(
        F.make_valid_utf8(F.col("value").cast("string")).alias("body"),
        F.col("value").alias("body_bytes"),
        F.col("topic").alias("source_name"),
        F.col("partition").cast("int").alias("source_partition"),
        F.col("offset").cast("long").alias("source_offset"),
        F.col("timestamp").alias("source_timestamp"),
    )


def read_events(spark: SparkSession, config: IngestConfig) -> DataFrame:
    """The configured source, with ``ingest_time``.

    ``current_timestamp()`` in a streaming plan is the micro-batch's timestamp, recorded in the
    offset log and reused when a batch is retried: a retry makes the same decisions
    (future_timestamp) and writes the same ingest_time.
    """
    events = read_kafka(spark, config) if config.source == "kafka" else read_landing(spark, config)
    return events.withColumn("ingest_time", F.current_timestamp())


# --------------------------------------------------------------------------------------------
# Azure Event Hubs (Kafka endpoint)
# --------------------------------------------------------------------------------------------

_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")


def on_databricks(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get("DATABRICKS_RUNTIME_VERSION"))


def eventhubs_kafka_options(
    env: Mapping[str, str] | None = None, *, databricks: bool | None = None
) -> dict[str, str | Secret]:
    """Kafka source options for Azure Event Hubs from ``EVENTHUB_NAMESPACE`` and
    ``EVENTHUB_CONNECTION_STR``.

    Event Hubs' Kafka endpoint is ``<namespace>.servicebus.windows.net:9093`` with SASL_SSL +
    PLAIN, user name ``$ConnectionString`` and the connection string as password. The JAAS
    line holds the secret, so it is returned as a ``Secret`` (revealed only when handed to
    Spark). ``EVENTHUB_NAMESPACE`` may be the short name or the host name; when absent it is
    read from the connection string's ``Endpoint``. ``databricks`` defaults to detecting
    Databricks Runtime, whose Kafka client is shaded (``kafkashaded.``).
    """
    env = os.environ if env is None else env
    connection = (env.get(EVENTHUB_CONNECTION_STR_ENV) or "").strip()
    if not connection:
        raise SmartgridError(
            f"{EVENTHUB_CONNECTION_STR_ENV} is not set: it holds the Event Hubs connection string "
            "(from the namespace's Shared access policies, or a Databricks secret scope)"
        )
    # Never echo the connection string: the messages below name the problem only.
    eventhubs.check_connection_string(connection)
    if any(char in connection for char in '"\\\n\r'):
        raise SmartgridError(
            f"{EVENTHUB_CONNECTION_STR_ENV} contains a quote, backslash or line break; "
            "copy the connection string again"
        )
    namespace = (env.get(EVENTHUB_NAMESPACE_ENV) or "").strip()
    if not namespace:
        namespace = eventhubs.endpoint_host(connection) or ""
        if not namespace:
            raise SmartgridError(
                f"set {EVENTHUB_NAMESPACE_ENV} (the connection string names no Endpoint=sb://...)"
            )
    namespace = namespace.removeprefix("sb://").rstrip("/")
    if not _NAMESPACE.match(namespace):
        raise SmartgridError(f"{EVENTHUB_NAMESPACE_ENV} {namespace!r} is not a namespace name")
    host = namespace if "." in namespace else f"{namespace}.servicebus.windows.net"
    if databricks is None:
        databricks = on_databricks(env)
    module = DATABRICKS_PLAIN_LOGIN_MODULE if databricks else PLAIN_LOGIN_MODULE
    jaas = f'{module} required username="{eventhubs.KAFKA_USERNAME}" password="{connection}";'
    return {
        "kafka.bootstrap.servers": f"{host}:{EVENTHUBS_KAFKA_PORT}",
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "PLAIN",
        "kafka.sasl.jaas.config": Secret(jaas),
        # Event Hubs' recommended client timeouts for the Kafka endpoint.
        "kafka.request.timeout.ms": "60000",
        "kafka.session.timeout.ms": "30000",
    }


def eventhub_name(env: Mapping[str, str] | None = None) -> str | None:
    """The event hub (Kafka topic): ``EVENTHUB_NAME``, else the connection string's EntityPath."""
    env = os.environ if env is None else env
    name = (env.get(EVENTHUB_NAME_ENV) or "").strip()
    if name:
        return name
    return eventhubs.entity_path(env.get(EVENTHUB_CONNECTION_STR_ENV) or "")
