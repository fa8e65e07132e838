"""Reading the statements the fake warehouse recorded (fake_warehouse.py) with sqlglot.

``parse(sql)`` parses one statement as Databricks SQL (``read="databricks"``) and fails the test
for a statement that sqlglot can neither parse nor finds in ``UNPARSED_KINDS``, the explicit list
of statement kinds it cannot read. A statement sqlglot only keeps as an opaque ``Command``
counts as unparsed. ``writes(sql)`` names what a statement writes: relations (catalog, schema,
name) and storage paths.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

_LEADING_COMMENTS = re.compile(r"^\s*(/\*.*?\*/\s*|--[^\n]*\n\s*)*", re.DOTALL)
_NAME = r"(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)"
_QUALIFIED = rf"{_NAME}(?:\.{_NAME}){{0,2}}"

# Statement kinds sqlglot 30 cannot parse as Databricks SQL (it raises, or keeps an opaque
# Command), each valid Databricks SQL and each sent by this project's dbt runs (the harness checks
# that every entry is used). They are read here with a pattern instead, and what they write is
# taken from that pattern.
UNPARSED_KINDS: dict[str, re.Pattern[str]] = {
    # export_csv (macros/export_csv.sql): one CSV part file into a staging directory.
    "insert overwrite directory": re.compile(
        r"^insert\s+overwrite\s+directory\s+'(?P<path>[^']+)'\s+using\s+csv\b",
        re.IGNORECASE,
    ),
    # Delta's table details (macros/relocate_lake_tables.sql: where a table lives).
    "describe detail": re.compile(rf"^describe\s+detail\s+(?P<name>{_QUALIFIED})\s*$", re.I),
    # Table properties: the project's watermarks (macros/incremental/state.sql) and dbt-databricks'
    # relation config.
    "show tblproperties": re.compile(rf"^show\s+tblproperties\s+(?P<name>{_QUALIFIED})", re.I),
    # dbt-databricks: does a schema exist (before `create schema`).
    "show schemas": re.compile(rf"^show\s+schemas\s+in\s+(?P<name>{_NAME})", re.I),
}
# The kinds above that write, and so are checked like any parsed write.
_UNPARSED_WRITES = {"insert overwrite directory"}


@dataclass(frozen=True)
class Write:
    kind: str  # create table, create view, create schema, insert, merge, alter, drop, grant, ...
    # (catalog, schema, name); a schema's own statements have name "".
    relation: tuple[str | None, str | None, str] | None = None
    path: str | None = None  # a storage location the statement writes or points a table at
    temporary: bool = False  # a session-scoped temporary view


def statement_text(sql: str) -> str:
    """The statement without dbt's leading query-header comment."""
    return _LEADING_COMMENTS.sub("", sql, count=1).strip()


def unparsed_kind(sql: str) -> str | None:
    text = statement_text(sql)
    for kind, pattern in UNPARSED_KINDS.items():
        if pattern.match(text):
            return kind
    return None


class _CommandWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        self.seen = True


def parse(sql: str) -> exp.Expression | None:
    """The statement's syntax tree; None for an allow-listed kind; AssertionError otherwise."""
    kind = unparsed_kind(sql)
    logger = logging.getLogger("sqlglot")
    handler = _CommandWarnings()
    logger.addHandler(handler)
    try:
        trees = sqlglot.parse(statement_text(sql), read="databricks")
    except sqlglot.errors.SqlglotError as exc:
        if kind:
            return None
        raise AssertionError(f"sqlglot cannot parse: {sql}\n{exc}") from None
    finally:
        logger.removeHandler(handler)
    trees = [t for t in trees if t is not None]
    assert len(trees) == 1, f"one statement per execute, got {len(trees)}: {sql}"
    (tree,) = trees
    if isinstance(tree, exp.Command) or handler.seen:
        if kind:
            return None
        raise AssertionError(f"sqlglot keeps this as an opaque command: {sql}")
    return tree


def _relation(table: exp.Expression | None) -> tuple[str | None, str | None, str] | None:
    if isinstance(table, exp.Schema):
        table = table.this
    if not isinstance(table, exp.Table):
        return None
    return (table.catalog or None, table.db or None, table.name)


def writes(sql: str) -> list[Write]:
    """What the statement writes: relations, and paths given as table or directory locations."""
    tree = parse(sql)
    if tree is None:
        kind = unparsed_kind(sql)
        if kind not in _UNPARSED_WRITES:
            return []
        match = UNPARSED_KINDS[kind].match(statement_text(sql))
        return [Write(kind, path=match.group("path"))]
    found: list[Write] = []
    if isinstance(tree, exp.Create):
        temporary = any(isinstance(p, exp.TemporaryProperty) for p in tree.find_all(exp.Property))
        location = tree.find(exp.LocationProperty)
        found.append(
            Write(
                f"create {str(tree.args.get('kind') or '').lower()}".strip(),
                relation=_relation(tree.this),
                path=location.this.name if location else None,
                temporary=temporary,
            )
        )
    elif isinstance(tree, exp.Insert):
        found.append(Write("insert", relation=_relation(tree.this)))
    elif isinstance(tree, (exp.Merge, exp.Delete, exp.Update, exp.Alter, exp.Comment)):
        found.append(Write(type(tree).__name__.lower(), relation=_relation(tree.this)))
    elif isinstance(tree, exp.Drop):
        for table in tree.args.get("tables") or [tree.this]:
            found.append(Write("drop", relation=_relation(table)))
    elif isinstance(tree, exp.Grant):
        found.append(Write("grant", relation=_relation(tree.args.get("securable"))))
    return found
