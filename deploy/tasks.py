"""Entry points of the Databricks job tasks (resources/*.yml), thin layers over the local code.

The bundle builds this project's wheel (databricks.yml, ``artifacts``) and the jobs run its
console scripts as ``python_wheel_task`` entry points:

- ``smartgrid-ingest-task [smartgrid ingest options]`` (resources/ingest_job.yml): exactly the
  options of ``smartgrid ingest``, plus where the Event Hubs connection string comes from. The
  job runs the same ``run_ingest`` as a laptop does; only configuration differs (an abfss://
  ``--lake``, ``--source kafka``).
- ``smartgrid-publish-task --lake URI`` (resources/dbt_job.yml): renames the CSV that
  ``dbt run-operation export_csv`` staged under ``<lake>/curated`` over
  ``smart_grid_curated.csv`` with transform.publish, the same code the local build runs, here
  over ``dbutils.fs``.

Secrets: ``EVENTHUB_CONNECTION_STR`` from the task's environment wins (a cluster env var set to
``{{secrets/<scope>/<key>}}`` is resolved by Databricks); otherwise, with ``--secret-scope``,
it is read with ``dbutils.secrets.get``. Either way it goes into a private mapping handed to
``config_from_args``, never into ``os.environ``, a log line or an error message.

On Databricks the job reuses the cluster's SparkSession (its Delta, Kafka and storage
credentials); ``build_ingest_spark`` would try to configure a local one. The runtime brings
PySpark and Delta, so the wheel declares neither (pyproject.toml: they are the ``local``
extra); ``ingest.sources`` (which imports PySpark) is imported only where a task needs it, so
the publish task runs without PySpark.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ingest import cli as ingest_cli
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake
from transform.publish import publish_local, publish_staged_exports

# Equal to ingest.sources.EVENTHUB_CONNECTION_STR_ENV (a test keeps them equal); repeated so
# that importing this module does not import PySpark.
EVENTHUB_CONNECTION_STR_ENV = "EVENTHUB_CONNECTION_STR"
DEFAULT_SECRET_KEY = "eventhub-listen-connection-string"  # pragma: allowlist secret
SECRET_SCOPE_ENV = "SMARTGRID_SECRET_SCOPE"  # pragma: allowlist secret
SECRET_KEY_ENV = "SMARTGRID_EVENTHUB_SECRET_KEY"  # pragma: allowlist secret

log = logging.getLogger(__name__)


class SecretsReader(Protocol):
    def get(self, scope: str, key: str) -> str: ...


def find_dbutils(spark: Any = None) -> Any | None:
    """``dbutils`` on Databricks (job cluster or serverless), ``None`` anywhere else."""
    try:  # Databricks Runtime, classic compute
        from pyspark.dbutils import DBUtils  # type: ignore[import-not-found]

        if spark is None:
            from pyspark.sql import SparkSession

            spark = SparkSession.getActiveSession()
        if spark is not None:
            return DBUtils(spark)
    except Exception:  # not Databricks, or a session DBUtils cannot wrap (serverless)
        pass
    try:  # serverless and Databricks Connect
        from databricks.sdk.runtime import dbutils  # type: ignore[import-not-found]

        return dbutils
    except (ImportError, ValueError):  # the SDK is missing, or there is no runtime context
        return None


def job_environment(
    env: Mapping[str, str],
    *,
    secret_scope: str | None,
    secret_key: str,
    secrets: SecretsReader | None,
) -> dict[str, str]:
    """The environment the ingest configuration is built from, the connection string resolved.

    ``EVENTHUB_CONNECTION_STR`` already set (local shell, or a cluster env var referencing a
    secret) is used as is. Otherwise, with a secret scope, ``secrets.get(scope, key)`` fills it.
    """
    resolved = dict(env)
    if (resolved.get(EVENTHUB_CONNECTION_STR_ENV) or "").strip() or not secret_scope:
        return resolved
    if secrets is None:
        raise SmartgridError(
            f"--secret-scope {secret_scope} needs Databricks (dbutils.secrets); elsewhere set "
            f"{EVENTHUB_CONNECTION_STR_ENV} in the environment"
        )
    try:
        value = secrets.get(secret_scope, secret_key)
    except Exception as exc:  # dbutils raises its own types; the message names no secret value
        raise SmartgridError(
            f"cannot read secret {secret_key!r} from scope {secret_scope!r} "
            f"({type(exc).__name__}); check `databricks secrets list-secrets {secret_scope}` and "
            "that the job's principal has READ on the scope"
        ) from None
    if not value:
        raise SmartgridError(f"secret {secret_key!r} in scope {secret_scope!r} is empty")
    resolved[EVENTHUB_CONNECTION_STR_ENV] = value
    return resolved


def refuse_volume_lake(lake: str | None) -> None:
    """A Unity Catalog volume cannot be the lake root: dbt registers the lake's Delta folders as
    external tables, and Unity Catalog defines no table on files in a volume. One line naming
    the fix; the same rule as macros/lake.sql on the Databricks target."""
    if lake and lake.removeprefix("dbfs:").startswith("/Volumes/"):
        raise SmartgridError(
            f"--lake {lake} is a Unity Catalog volume, and tables cannot be defined on files in a "
            "volume: use a path of an external location (abfss://<container>@<account>.dfs."
            "core.windows.net/<prefix>), see docs/deploy-azure.md"
        )


# --------------------------------------------------------------------------------------------
# Parsing: the ingest subcommand's own options, plus the secret location
# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smartgrid-task",
        description="Databricks job tasks of the smart-grid pipeline.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--lake", metavar="URI", help="lake root, e.g. abfss://<c>@<a>.dfs...")
    ingest_cli.register(subparsers, common)  # the same options as `smartgrid ingest`
    ingest = subparsers.choices["ingest"]
    ingest.add_argument(
        "--secret-scope",
        default=os.environ.get(SECRET_SCOPE_ENV),
        help="Databricks secret scope holding the Event Hubs Listen connection string "
        f"(used when {EVENTHUB_CONNECTION_STR_ENV} is not set; default ${SECRET_SCOPE_ENV})",
    )
    ingest.add_argument(
        "--secret-key",
        default=os.environ.get(SECRET_KEY_ENV, DEFAULT_SECRET_KEY),
        help=f"key of that secret in the scope (default {DEFAULT_SECRET_KEY})",
    )
    ingest.set_defaults(func=run_ingest_task)
    publish = subparsers.add_parser(
        "publish-export",
        parents=[common],
        help="rename the staged CSV export under <lake>/curated over its target",
    )
    publish.add_argument(
        "--directory", help="directory holding the staged export (default <lake>/curated)"
    )
    publish.set_defaults(func=run_publish_task)
    return parser


def ingest_configuration(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    secrets: SecretsReader | None = None,
):
    """(IngestConfig, ValidationConfig) for ``ingest ...`` task parameters; starts no Spark."""
    args = build_parser().parse_args(list(argv))
    if args.command != "ingest":
        raise SmartgridError(f"expected the ingest command, got {args.command!r}")
    return _ingest_configuration(args, os.environ if env is None else env, secrets)


def _ingest_configuration(args: argparse.Namespace, env: Mapping[str, str], secrets):
    refuse_volume_lake(args.lake)
    resolved = job_environment(
        env, secret_scope=args.secret_scope, secret_key=args.secret_key, secrets=secrets
    )
    return ingest_cli.config_from_args(args, resolved)


def run_ingest_task(args: argparse.Namespace) -> int:
    from ingest.job import build_ingest_spark, run_ingest, table_counts

    spark = _databricks_spark()
    secrets = None
    if args.secret_scope and not os.environ.get(EVENTHUB_CONNECTION_STR_ENV):
        dbutils = find_dbutils(spark)
        secrets = dbutils.secrets if dbutils is not None else None
    config, validation = _ingest_configuration(args, os.environ, secrets)
    owned = spark is None  # a session this task started itself (not on Databricks) is stopped
    spark = spark or build_ingest_spark(config)
    try:
        summary = run_ingest(config, validation, spark=spark)
        print(summary.format())
        print(table_counts(spark, config).format())
    finally:
        if owned:
            spark.stop()
    return 0


def _databricks_spark():
    from ingest.sources import on_databricks

    if not on_databricks():
        return None
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()


# --------------------------------------------------------------------------------------------
# Publishing the CSV export on cloud storage
# --------------------------------------------------------------------------------------------


def run_publish_task(args: argparse.Namespace) -> int:
    refuse_volume_lake(args.lake)
    lake = Lake.resolve(args.lake)
    directory = args.directory or lake.curated
    if lake.is_local and "://" not in directory:
        published = [str(p) for p in publish_local(directory)]
    else:
        dbutils = find_dbutils()
        if dbutils is None:
            raise SmartgridError(f"publishing to {directory} needs Databricks (dbutils.fs)")
        published = publish_staged_exports(directory, dbutils.fs)
    if not published:
        raise SmartgridError(
            f"no staged export under {directory}: run `dbt run-operation export_csv` first",
            exit_code=1,
        )
    for target in published:
        print(f"published {target}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one task command; ``error: <message>`` and a non-zero code on a bad option."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = int(args.func(args) or 0)
    except SmartgridError as err:
        print(f"error: {err}", file=sys.stderr)
        code = err.exit_code
    sys.stdout.flush()
    return code


def _run_entry_point(command: str) -> None:
    """A console script of the wheel, as a ``python_wheel_task`` calls it (parameters in argv)."""
    code = main([command, *sys.argv[1:]])
    if code:  # a zero exit is left implicit: some runners treat any SystemExit as a failure
        sys.exit(code)


def ingest_entry() -> None:
    """``smartgrid-ingest-task``: the ingest job's task (resources/ingest_job.yml)."""
    _run_entry_point("ingest")


def publish_entry() -> None:
    """``smartgrid-publish-task``: the dbt job's publish_csv task (resources/dbt_job.yml)."""
    _run_entry_point("publish-export")
