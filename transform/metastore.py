"""The local Spark session dbt reuses, and the Derby metastore's one-process lock.

Spark's embedded Derby metastore admits one process at a time; these helpers turn a locked
metastore into one clear error instead of Hive's minute of retries and pages of stack traces.
"""

from __future__ import annotations

from pathlib import Path

from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

# How Derby reports that another JVM holds the metastore (SQLState XSDB6).
_DERBY_LOCKED = ("XSDB6", "Another instance of Derby may have already booted")


def is_metastore_lock(exc: BaseException) -> bool:
    text = str(exc)
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        text += str(cause)
        cause = cause.__cause__ or cause.__context__
    return any(marker in text for marker in _DERBY_LOCKED)


def metastore_locked_error(lake: Lake) -> SmartgridError:
    return SmartgridError(
        f"the Derby metastore at {lake.metastore} is in use by another process "
        "(Derby admits one at a time: another `smartgrid build`, `dbt` or a notebook on this "
        "lake); stop it and retry, or use another --lake"
    )


def metastore_in_use(lake: Lake) -> bool:
    """Whether another process has booted the lake's Derby metastore.

    Derby holds an exclusive lock on ``metastore_db/dbex.lck`` while booted (a Java FileChannel
    lock, an fcntl lock on POSIX); probing it before starting Spark saves Hive's minute of
    retries and its pages of stack traces.
    """
    if not lake.is_local:
        return False
    lock_file = Path(lake.metastore) / "dbex.lck"
    if not lock_file.exists():
        return False
    try:
        import fcntl
    except ImportError:  # Windows: let Derby report it
        return False
    with lock_file.open("r+b") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(handle, fcntl.LOCK_UN)
    return False


def start_spark(lake: Lake):
    """The Hive-enabled session dbt will reuse; a locked metastore is one clear error."""
    from pyspark.sql import SparkSession

    from smartgrid.spark import build_spark

    # Only before this process starts its own JVM: once it runs, the lock may be our own.
    if SparkSession.getActiveSession() is None and metastore_in_use(lake):
        raise metastore_locked_error(lake)
    spark = build_spark(lake, "smartgrid-dbt", hive=True)
    _quiet_known_metastore_noise(spark)
    try:
        # Touch the catalog now: Derby boots lazily, and its lock error is clearer here than
        # in the middle of dbt's output.
        spark.sql("show databases").collect()
    except Exception as exc:
        if is_metastore_lock(exc):
            raise metastore_locked_error(lake) from None
        raise
    return spark


def _quiet_known_metastore_noise(spark) -> None:
    """Silence the known-harmless noise of a dbt run; other loggers keep the session's level.

    Replacing a Delta table logs a Hive ERROR with a stack trace (Delta tables are not Hive
    compatible; Spark stores them in its own format and carries on); dbt-spark's session method
    calls ``getOrCreate`` for every statement (a warning each time); and probing a missing
    ``_delta_log`` (macros/register_lake_sources.sql) warns that it is missing.
    """
    try:
        log4j = spark.sparkContext._jvm.org.apache.logging.log4j
        for name in (
            "org.apache.hadoop.hive.metastore.HiveAlterHandler",
            "org.apache.spark.sql.hive.HiveExternalCatalog",
            "org.apache.spark.sql.SparkSession",
            "org.apache.spark.sql.classic.SparkSession",
            "org.apache.spark.sql.execution.streaming.FileStreamSink",
            "org.apache.spark.sql.execution.streaming.sinks.FileStreamSink",  # Spark 4.2
            "org.apache.spark.util.HadoopFSUtils",
        ):
            log4j.core.config.Configurator.setLevel(name, log4j.Level.OFF)
    except Exception:  # logging only: never fail a build over it
        pass
