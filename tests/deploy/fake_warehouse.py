"""A recording stand-in for a Databricks SQL warehouse, at the edge of the SQL connector.

A Databricks workspace cannot be reached from here. dbt-databricks reaches its SQL warehouse
through one call, ``databricks.sql.connect`` of the Databricks SQL connector
(dbt/adapters/databricks/handle.py: ``DatabricksHandle.from_connection_args``), which opens a
Thrift-over-HTTPS session. ``FakeWarehouse.serving`` replaces that call, and only that call:
the profile, the credentials, the adapter, its macros and materializations, and dbt itself are
the real ones. Every statement the adapter sends is recorded as the warehouse would receive it
(the connector's own inline-parameter rendering applied), then answered by the local Spark
session:

- each connection is a session of its own (``SparkSession.newSession()``: its own SQL settings,
  temporary views and current schema, the shared metastore), as each warehouse session is;
- a session starts from the warehouse's global settings (``global_time_zone``, not UTC, like a
  workspace whose admin set another zone) and applies the connection's
  ``session_configuration`` (the profile's ``session_properties``), refusing keys a SQL
  warehouse does not accept;
- Unity Catalog's three-part names ``<catalog>.<schema>.<table>`` run on Spark's session catalog
  (``spark_catalog``); ``information_schema`` views and ``DESCRIBE TABLE ... AS JSON`` are
  answered from Spark's catalog; Unity Catalog's privilege statements (GRANT, REVOKE, ...) are
  recorded and have no effect, since Spark has no privileges.

What it cannot tell: Unity Catalog's own rules (privileges, overlapping locations, what a
volume may hold) and the warehouse's SQL dialect where it differs from Spark 4's. The statements
are recorded so that tests can check those rules on the text (tests/deploy).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from statements import statement_text

# The configuration parameters a SQL warehouse accepts in a session (Databricks SQL reference,
# "Configuration parameters"), plus QUERY_TAGS, which dbt-databricks sets itself. A warehouse
# refuses any other key, e.g. a Spark setting such as spark.sql.session.timeZone.
WAREHOUSE_SESSION_PARAMETERS = {
    "ANSI_MODE": "spark.sql.ansi.enabled",
    "LEGACY_TIME_PARSER_POLICY": "spark.sql.legacy.timeParserPolicy",
    "MAX_FILE_PARTITION_BYTES": "spark.sql.files.maxPartitionBytes",
    "TIMEZONE": "spark.sql.session.timeZone",
    "STATEMENT_TIMEOUT": None,
    "USE_CACHED_RESULT": None,
    "QUERY_TAGS": None,
}

# Unity Catalog statements with no Spark counterpart: recorded, answered with no rows.
_PRIVILEGE_STATEMENT = re.compile(
    r"^\s*(grant|revoke|deny)\b|^\s*alter\s+(table|view|schema|catalog)\s+\S+\s+"
    r"(owner\s+to|set\s+tags|unset\s+tags)\b",
    re.IGNORECASE,
)
_DESCRIBE_AS_JSON = re.compile(
    r"^\s*describe\s+(?:table\s+)?extended\s+(?P<name>.+?)\s+as\s+json\s*$",
    re.IGNORECASE | re.DOTALL,
)
_USE_CATALOG = re.compile(r"^\s*use\s+catalog\s+`?(?P<name>[^`\s]+)`?\s*$", re.IGNORECASE)
_INFORMATION_SCHEMA = re.compile(
    r"(?:`?[A-Za-z_][A-Za-z0-9_]*`?\.)?`?information_schema`?\.`?(?P<view>[A-Za-z_]+)`?",
    re.IGNORECASE,
)
_SCHEMA_FILTER = re.compile(r"\b(?:table_schema|schema_name)\s*=\s*'([^']+)'", re.IGNORECASE)

# Empty information_schema views dbt-databricks reads (tags, masks, filters, constraints): no
# such objects exist in this project, and Spark has none to report.
_EMPTY_VIEWS = {
    "table_tags": "catalog_name, schema_name, table_name, tag_name, tag_value",
    "column_tags": "catalog_name, schema_name, table_name, column_name, tag_name, tag_value",
    "column_masks": "table_catalog, table_schema, table_name, column_name, mask_name, "
    "using_columns",
    "row_filters": "table_catalog, table_schema, table_name, filter_name, target_columns",
    "table_constraints": "constraint_catalog, constraint_schema, constraint_name, "
    "table_catalog, table_schema, table_name, constraint_type",
    "key_column_usage": "constraint_catalog, constraint_schema, constraint_name, "
    "table_catalog, table_schema, table_name, column_name, ordinal_position",
    "referential_constraints": "constraint_catalog, constraint_schema, constraint_name, "
    "unique_constraint_catalog, unique_constraint_schema, unique_constraint_name",
}


class WarehouseError(Exception):
    """What the connector raises for a failed statement (it subclasses databricks.sql.Error)."""


@dataclass(frozen=True)
class Statement:
    """One statement as the warehouse received it."""

    connection: int
    sql: str
    time_zone: str  # the session's time zone when it ran
    error: str | None = None
    seconds: float = 0.0  # how long Spark took to answer it


@dataclass
class FakeWarehouse:
    spark: Any
    catalog: str = "main"
    global_time_zone: str = "America/Los_Angeles"
    statements: list[Statement] = field(default_factory=list)
    connections: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # -- the replaced entry point ---------------------------------------------------------------

    def connect(self, **kwargs: Any) -> FakeConnection:
        """``databricks.sql.connect(**kwargs)``: a new session with the connection's settings."""
        recorded = {
            k: kwargs.get(k)
            for k in ("server_hostname", "http_path", "catalog", "schema", "session_configuration")
        }
        with self._lock:
            number = next(self._ids)
            self.connections.append(recorded)
        session = self.spark.newSession()
        session.conf.set("spark.sql.session.timeZone", self.global_time_zone)
        for key, value in (kwargs.get("session_configuration") or {}).items():
            name = key.upper()
            if name not in WAREHOUSE_SESSION_PARAMETERS:
                raise WarehouseError(
                    f"[CONFIG_NOT_AVAILABLE] Configuration {key} is not available. SQLSTATE: 42K0I"
                )
            spark_key = WAREHOUSE_SESSION_PARAMETERS[name]
            if spark_key:
                session.conf.set(spark_key, str(value))
        return FakeConnection(self, session, number)

    @contextmanager
    def serving(self) -> Iterator[FakeWarehouse]:
        """Route ``databricks.sql.connect`` to this warehouse while the block runs."""
        import databricks.sql

        original = databricks.sql.connect
        databricks.sql.connect = self.connect
        try:
            yield self
        finally:
            databricks.sql.connect = original

    # -- what the tests read -------------------------------------------------------------------

    def since(self, mark: int) -> list[Statement]:
        return self.statements[mark:]

    def _record(self, statement: Statement) -> None:
        with self._lock:
            self.statements.append(statement)

    # -- Unity Catalog names on Spark ------------------------------------------------------------

    def translate(self, sql: str) -> str:
        """The statement with the catalog's three-part names on Spark's session catalog."""
        return sql.replace(f"`{self.catalog}`", "`spark_catalog`")


class FakeConnection:
    def __init__(self, warehouse: FakeWarehouse, session: Any, number: int) -> None:
        self.warehouse = warehouse
        self.session = session
        self.number = number
        self.open = True

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def close(self) -> None:
        self.open = False

    def get_session_id_hex(self) -> str:
        return f"fake-session-{self.number:04d}"

    def __enter__(self) -> FakeConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FakeCursor:
    """The part of ``databricks.sql.client.Cursor`` dbt-databricks uses."""

    def __init__(self, connection: FakeConnection) -> None:
        self.connection = connection
        self.description: list[tuple] | None = None
        self.query_id: str | None = None
        self._rows: list[tuple] = []
        self._position = 0

    # -- execution ---------------------------------------------------------------------------

    def execute(self, operation: str, parameters: Sequence[Any] | None = None) -> FakeCursor:
        from databricks.sql.utils import ParamEscaper, inject_parameters

        if parameters:  # use_inline_params: the connector renders them into the text
            operation = inject_parameters(operation, ParamEscaper().escape_args(parameters))
        warehouse = self.connection.warehouse
        session = self.connection.session
        time_zone = session.conf.get("spark.sql.session.timeZone")
        self.query_id = f"fake-query-{len(warehouse.statements) + 1}"
        started = time.monotonic()
        try:
            columns, rows = self._answer(operation)
        except Exception as exc:
            message = _first_line(exc)
            warehouse._record(
                Statement(self.connection.number, operation, time_zone, message, _since(started))
            )
            raise WarehouseError(message) from None
        warehouse._record(
            Statement(self.connection.number, operation, time_zone, None, _since(started))
        )
        self.description = [(name, kind, None, None, None, None, None) for name, kind in columns]
        self._rows = rows
        self._position = 0
        return self

    def _answer(self, operation: str) -> tuple[list[tuple[str, str]], list[tuple]]:
        warehouse = self.connection.warehouse
        session = self.connection.session
        text = statement_text(operation)
        if _PRIVILEGE_STATEMENT.match(text):
            return [], []
        use_catalog = _USE_CATALOG.match(text)
        if use_catalog:
            if use_catalog.group("name") != warehouse.catalog:
                raise WarehouseError(f"[NO_SUCH_CATALOG_EXCEPTION] {use_catalog.group('name')}")
            return [], []
        described = _DESCRIBE_AS_JSON.match(text)
        if described:
            name = warehouse.translate(described.group("name"))
            metadata = describe_as_json(session, name, warehouse.catalog)
            return [("json_metadata", "string")], [(json.dumps(metadata),)]
        sql = warehouse.translate(operation)
        if _INFORMATION_SCHEMA.search(sql):
            sql = _information_schema_views(session, sql, warehouse.catalog)
        frame = session.sql(sql)
        columns = [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]
        rows = [tuple(row) for row in frame.collect()]
        if "current_catalog()" in text.lower():
            rows = [
                tuple(warehouse.catalog if v == "spark_catalog" else v for v in row) for row in rows
            ]
        return columns, rows

    # -- results -------------------------------------------------------------------------------

    def fetchall(self) -> list[tuple]:
        rows, self._position = self._rows[self._position :], len(self._rows)
        return rows

    def fetchone(self) -> tuple | None:
        if self._position >= len(self._rows):
            return None
        self._position += 1
        return self._rows[self._position - 1]

    def fetchmany(self, size: int) -> list[tuple]:
        rows = self._rows[self._position : self._position + size]
        self._position += len(rows)
        return rows

    # -- Thrift metadata calls (hive_metastore only; Unity Catalog uses information_schema) ---

    def schemas(self, catalog_name: str | None = None, schema_name: str | None = None):
        pattern = f" like '{schema_name}'" if schema_name else ""
        return self.execute(f"show schemas in `{self.connection.warehouse.catalog}`{pattern}")

    def tables(self, catalog_name: str | None = None, schema_name: str | None = None):
        return self.execute(f"show tables in `{catalog_name}`.`{schema_name}`")

    def close(self) -> None:
        self._rows = []

    def cancel(self) -> None:
        pass


def _since(started: float) -> float:
    return time.monotonic() - started


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


# ------------------------------------------------------------------------------------------------
# information_schema and DESCRIBE ... AS JSON, answered from Spark's catalog
# ------------------------------------------------------------------------------------------------


def _information_schema_views(session: Any, sql: str, catalog: str) -> str:
    """Replace each information_schema view the query names with a temporary view of the same
    columns, filled from Spark's catalog (only the schemas the query filters on, if it does)."""
    schemas = set(_SCHEMA_FILTER.findall(sql)) or None

    def replace(match: re.Match) -> str:
        view = match.group("view").lower()
        name = f"__information_schema_{view}"
        if view == "tables":
            _tables_view(session, name, schemas, catalog)
        elif view == "columns":
            _columns_view(session, name, schemas, catalog)
        elif view == "views":
            _views_view(session, name, schemas, catalog)
        elif view in _EMPTY_VIEWS:
            if not session.catalog.tableExists(name):  # made once per session
                columns = ", ".join(
                    f"cast(null as string) as {c.strip()}" for c in _EMPTY_VIEWS[view].split(",")
                )
                session.sql(f"create temporary view {name} as select {columns} limit 0")
        else:
            raise WarehouseError(f"information_schema.{view} is not emulated by the fake warehouse")
        return f"`{name}`"

    return _INFORMATION_SCHEMA.sub(replace, sql)


def _option(value: Any) -> Any:
    return value.get() if value.isDefined() else None


def _table_infos(session: Any, schemas: set[str] | None) -> list[dict[str, Any]]:
    """The metastore's entry of every table and view of ``schemas`` (all when None), read from
    Spark's external catalog directly: no statement, no Spark job."""
    external = session._jsparkSession.sharedState().externalCatalog()
    if schemas is None:
        listed = external.listDatabases()
        schemas = {listed.apply(i) for i in range(listed.size())}
    infos = []
    for schema in sorted(schemas):
        if not external.databaseExists(schema):
            continue
        names = external.listTables(schema)
        for i in range(names.size()):
            table = external.getTable(schema, names.apply(i))
            infos.append(
                {
                    "schema": schema,
                    "name": table.identifier().table(),
                    "type": table.tableType().name().upper(),
                    "provider": _option(table.provider()),
                    "owner": table.owner(),
                    "location": str(_option(table.storage().locationUri()) or "") or None,
                    "view_text": _option(table.viewText()),
                }
            )
    return infos


def _tables_view(session: Any, name: str, schemas: set[str] | None, catalog: str) -> None:
    rows = [
        (
            catalog,
            info["schema"],
            info["name"],
            info["type"],
            (info["provider"] or "").upper() or None if info["type"] != "VIEW" else None,
            info["owner"],
            info["location"],
        )
        for info in _table_infos(session, schemas)
    ]
    schema = (
        "table_catalog string, table_schema string, table_name string, table_type string, "
        "data_source_format string, table_owner string, storage_path string"
    )
    frame = session.createDataFrame(rows, schema).selectExpr(
        "*", "current_timestamp() as created", "current_timestamp() as last_altered"
    )
    frame.createOrReplaceTempView(name)


def _views_view(session: Any, name: str, schemas: set[str] | None, catalog: str) -> None:
    rows = [
        (catalog, info["schema"], info["name"], info["view_text"])
        for info in _table_infos(session, schemas)
        if info["type"] == "VIEW"
    ]
    schema = "table_catalog string, table_schema string, table_name string, view_definition string"
    session.createDataFrame(rows, schema).createOrReplaceTempView(name)


def _columns_view(session: Any, name: str, schemas: set[str] | None, catalog: str) -> None:
    rows = []
    for info in _table_infos(session, schemas):
        # Delta keeps a table's schema in its log, not in the metastore: ask the table.
        table = session.table(f"`spark_catalog`.`{info['schema']}`.`{info['name']}`")
        for position, column in enumerate(table.schema.fields):
            rows.append(
                (
                    catalog,
                    info["schema"],
                    info["name"],
                    column.name,
                    position,
                    "YES" if column.nullable else "NO",
                    column.dataType.simpleString(),
                    column.metadata.get("comment"),
                )
            )
    schema = (
        "table_catalog string, table_schema string, table_name string, column_name string, "
        "ordinal_position int, is_nullable string, data_type string, comment string"
    )
    session.createDataFrame(rows, schema).createOrReplaceTempView(name)


def describe_as_json(session: Any, name: str, catalog: str) -> dict[str, Any]:
    """``DESCRIBE TABLE EXTENDED <name> AS JSON`` in Databricks' format (the parts dbt reads).

    Spark 4 answers it for v1 tables only; Delta tables are v2, so it is built here."""
    table = session.catalog.getTable(name.replace("`", ""))
    schema = session.table(name).schema
    return {
        "table_name": table.name,
        "catalog_name": catalog,
        "schema_name": table.namespace[-1] if table.namespace else None,
        "namespace": list(table.namespace or []),
        "type": table.tableType,
        "columns": [
            {
                "name": f.name,
                "type": _json_type(f.dataType),
                "nullable": f.nullable,
                **({"comment": f.metadata["comment"]} if "comment" in f.metadata else {}),
            }
            for f in schema.fields
        ],
    }


def _json_type(data_type: Any) -> dict[str, Any]:
    from pyspark.sql import types as T

    if isinstance(data_type, T.StructType):
        return {
            "name": "struct",
            "fields": [
                {"name": f.name, "type": _json_type(f.dataType), "nullable": f.nullable}
                for f in data_type.fields
            ],
        }
    if isinstance(data_type, T.ArrayType):
        return {
            "name": "array",
            "element_type": _json_type(data_type.elementType),
            "element_nullable": data_type.containsNull,
        }
    if isinstance(data_type, T.MapType):
        return {
            "name": "map",
            "key_type": _json_type(data_type.keyType),
            "value_type": _json_type(data_type.valueType),
            "value_nullable": data_type.valueContainsNull,
        }
    if isinstance(data_type, T.DecimalType):
        return {"name": "decimal", "precision": data_type.precision, "scale": data_type.scale}
    if isinstance(data_type, T.TimestampType):
        return {"name": "timestamp_ltz"}
    return {"name": data_type.simpleString()}
