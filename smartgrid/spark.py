"""The one place that builds the local SparkSession (ingest, tests, dbt's session profile).

Local master, Delta extensions and catalog, small shuffle partitions, and Spark's
own state (warehouse, Derby metastore) under the lake root. Delta and the Kafka connector
come from the project-local jar folder ``make setup`` fills (smartgrid.jars, ``.spark-jars/``),
put on the class path: no resolution and no network when a session starts. Before setup (no
folder) they come from Maven Central through ``spark.jars.packages`` as a fallback.
Spark's, Ivy's and Delta's logs go to a file (``log4j2.properties`` beside this module), never
to the console unless ``SMARTGRID_CONSOLE_LOG_LEVEL`` asks (``--verbose``).

``spark_conf`` is the single definition of these settings; profiles.example.yml
mirrors it for ``dbt`` run from the shell, and a test keeps the two equal.
"""

from __future__ import annotations

import os
from pathlib import Path

from smartgrid import jars
from smartgrid.errors import SmartgridError
from smartgrid.jars import ALL_PACKAGES, DELTA_PACKAGE, KAFKA_PACKAGE
from smartgrid.lake import Lake
from smartgrid.logs import quiet_jvm_start

# Spark's logging: to a file, never the console (copied into the jar folder by `make setup`, so
# dbt's profile names it there as it names the jars).
LOG4J2_CONFIG = Path(__file__).resolve().with_name("log4j2.properties")

# Fits a 2-core, 24 GB machine; override with SMARTGRID_DRIVER_MEMORY / SMARTGRID_SHUFFLE_PARTITIONS.
DEFAULT_DRIVER_MEMORY = "4g"
DEFAULT_SHUFFLE_PARTITIONS = 2


def spark_conf(
    lake: Lake,
    *,
    kafka: bool = False,
    driver_memory: str | None = None,
    shuffle_partitions: int | None = None,
) -> dict[str, str]:
    """Every Spark setting the project uses locally, as strings (as dbt's profile needs them)."""
    folder = jars.jars_dir()
    if jars.is_ready(folder, ALL_PACKAGES):
        # A wildcard is refused in spark.jars; on the class path it works in local mode.
        classpath = {
            "spark.driver.extraClassPath": f"{folder}/*",
            "spark.executor.extraClassPath": f"{folder}/*",
        }
        log4j2 = folder / jars.LOG4J2_COPY
    else:  # a clean clone before `make setup`: Spark resolves them itself (network, Ivy)
        packages = [DELTA_PACKAGE, *([KAFKA_PACKAGE] if kafka else [])]
        classpath = {"spark.jars.packages": ",".join(packages)}
        log4j2 = LOG4J2_CONFIG
    memory = driver_memory or os.environ.get("SMARTGRID_DRIVER_MEMORY", DEFAULT_DRIVER_MEMORY)
    partitions = shuffle_partitions or int(
        os.environ.get("SMARTGRID_SHUFFLE_PARTITIONS", DEFAULT_SHUFFLE_PARTITIONS)
    )
    return {
        "spark.master": os.environ.get("SMARTGRID_SPARK_MASTER", "local[2]"),
        **classpath,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.shuffle.partitions": str(partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": memory,
        "spark.ui.enabled": "false",
        # Progress bars would interleave with the pipeline's own progress lines.
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.warehouse.dir": lake.warehouse,
        # Derby keeps its files (and its one-process lock) under the lake, not the cwd.
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={lake.metastore};create=true",
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={lake.root} -Dlog4j2.configurationFile={log4j2}"
        ),
        # Delta: small local tables do not need 50 partitions of checkpoint work per commit.
        "spark.databricks.delta.snapshotPartitions": "2",
        # For every local session, dbt's too (its benchmarks were measured so): see
        # ingest.job.INGEST_SQL_CONF, which also sets it on any session the ingest runs on.
        "spark.sql.constraintPropagation.enabled": "false",
    }


def build_spark(
    lake: Lake,
    app_name: str = "smartgrid",
    *,
    hive: bool = False,
    kafka: bool = False,
    extra_conf: dict[str, str] | None = None,
):
    """Start (or return) the local SparkSession.

    ``hive=True`` uses the embedded Derby metastore (dbt needs it); the ingest job keeps it off,
    because Derby admits one process at a time and the ingest must run beside ``dbt``.
    """
    from smartgrid.java import check_java

    check_java()
    from pyspark.errors import PySparkRuntimeError
    from pyspark.sql import SparkSession

    if lake.is_local:
        Path(lake.root).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName(app_name)
    for key, value in {**spark_conf(lake, kafka=kafka), **(extra_conf or {})}.items():
        builder = builder.config(key, value)
    if hive:
        builder = builder.enableHiveSupport()
    try:
        # The JVM's own output (the JVM's warnings; Ivy's report before setup) into the log.
        with quiet_jvm_start():
            spark = builder.getOrCreate()
    except PySparkRuntimeError as exc:
        packages = DELTA_PACKAGE + (f", {KAFKA_PACKAGE}" if kafka else "")
        cause = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)
        raise SmartgridError(
            "Spark did not start. Most often its JVM packages "
            f"({packages}) are not in the jar folder (run `make setup` once, with network "
            "access) or could not be resolved (the resolver's report in the log names the "
            f"missing artifact). Cause: {cause.strip().splitlines()[0] if cause.strip() else exc}"
        ) from exc
    spark.sparkContext.setLogLevel(os.environ.get("SMARTGRID_SPARK_LOG_LEVEL", "WARN"))
    return spark
