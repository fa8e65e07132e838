"""A small reader of the TMDL this project writes: tables, columns, measures, partitions,
shared expressions and relationships, enough for the tests to check what Power BI will load.

It follows Microsoft's TMDL rules (tab indentation: object, properties one tab deeper, a
multi-line expression one tab deeper than the properties; `///` descriptions) and raises on a
line it cannot place, so a malformed file fails the tests instead of being half read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

NAME = r"(?:'(?:[^']|'')+'|[A-Za-z_][\w]*)"


def unquote(name: str) -> str:
    return name[1:-1].replace("''", "'") if name.startswith("'") else name


@dataclass
class Column:
    name: str
    properties: dict[str, str] = field(default_factory=dict)
    expression: str | None = None  # DAX, for a calculated column

    @property
    def calculated(self) -> bool:
        return self.expression is not None


@dataclass
class Measure:
    name: str
    expression: str
    properties: dict[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass
class Table:
    name: str
    columns: dict[str, Column] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    partitions: dict[str, str] = field(default_factory=dict)  # name -> M


@dataclass
class Model:
    tables: dict[str, Table]
    expressions: dict[str, str]  # shared M expressions (parameters, functions, sources)
    relationships: list[tuple[tuple[str, str], tuple[str, str]]]


class TmdlError(ValueError):
    pass


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip("\t"))


def _block(lines: list[str], i: int, first: str, depth: int) -> tuple[str, int]:
    """An expression: `first` (after `=`) or the following lines indented `depth` tabs or more."""
    if first:
        return first, i + 1
    body, j = [], i + 1
    while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) >= depth):
        body.append(lines[j][depth:] if lines[j].strip() else "")
        j += 1
    while body and not body[-1]:
        body.pop()
    if not body:
        raise TmdlError(f"line {i + 1}: empty expression")
    return "\n".join(body), j


def read_model(definition: Path) -> Model:
    tables = {}
    for path in sorted((definition / "tables").glob("*.tmdl")):
        table = read_table(path.read_text(encoding="utf-8"), path.name)
        tables[table.name] = table
    expressions = read_expressions((definition / "expressions.tmdl").read_text(encoding="utf-8"))
    relationships = read_relationships(
        (definition / "relationships.tmdl").read_text(encoding="utf-8")
    )
    return Model(tables, expressions, relationships)


def read_table(text: str, where: str = "table") -> Table:
    lines = text.splitlines()
    table: Table | None = None
    current: Column | Measure | None = None
    description: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        depth = _indent(line)
        if not stripped:
            i += 1
            continue
        if line[depth : depth + 1] == " ":
            raise TmdlError(f"{where}:{i + 1}: indentation must be tabs")
        if stripped.startswith("///"):
            description.append(stripped[3:].strip())
            i += 1
            continue
        if depth == 0 and (m := re.fullmatch(rf"table ({NAME})", stripped)):
            table = Table(unquote(m.group(1)))
            current = None
        elif table is None:
            raise TmdlError(f"{where}:{i + 1}: {stripped!r} before `table`")
        elif depth == 1 and (m := re.fullmatch(rf"measure ({NAME})\s*=\s*(.*)", stripped)):
            expression, i = _block(lines, i, m.group(2).strip(), 3)
            current = Measure(unquote(m.group(1)), expression, description=" ".join(description))
            table.measures[current.name] = current
            description = []
            continue
        elif depth == 1 and (m := re.fullmatch(rf"column ({NAME})(?:\s*=\s*(.*))?", stripped)):
            current = Column(unquote(m.group(1)))
            table.columns[current.name] = current
            description = []
            if m.group(2) is not None:
                current.expression, i = _block(lines, i, m.group(2).strip(), 3)
                continue
        elif depth == 1 and (m := re.fullmatch(rf"partition ({NAME}) = m", stripped)):
            name = unquote(m.group(1))
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) == 2):
                if lines[j].strip() == "source =":
                    table.partitions[name], j = _block(lines, j, "", 4)
                    break
                j += 1
            else:
                raise TmdlError(f"{where}:{i + 1}: partition {name} has no `source =`")
            current = None
            i = j
            continue
        elif depth == 1 and stripped.startswith("annotation "):
            current = None
        elif depth == 2 and stripped.startswith("annotation "):
            pass
        elif depth == 2 and current is not None:
            key, colon, value = stripped.partition(":")
            # A property without a value is a boolean set to true (isHidden).
            current.properties[key.strip()] = value.strip() if colon else "true"
        else:
            raise TmdlError(f"{where}:{i + 1}: unexpected line {stripped!r}")
        i += 1
    if table is None:
        raise TmdlError(f"{where}: no table")
    return table


def read_expressions(text: str) -> dict[str, str]:
    lines = text.splitlines()
    out, i = {}, 0
    while i < len(lines):
        stripped = lines[i].strip()
        if _indent(lines[i]) == 0 and (
            m := re.fullmatch(rf"expression ({NAME})\s*=\s*(.*)", stripped)
        ):
            out[unquote(m.group(1))], i = _block(lines, i, m.group(2).strip(), 2)
            continue
        if stripped and not stripped.startswith("///") and _indent(lines[i]) == 0:
            raise TmdlError(f"expressions.tmdl:{i + 1}: unexpected line {stripped!r}")
        i += 1
    return out


def read_relationships(text: str) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    ends = re.findall(rf"^\t(fromColumn|toColumn): ({NAME})\.({NAME})$", text, re.M)
    pairs = [(unquote(t), unquote(c)) for _, t, c in ends]
    kinds = [k for k, _, _ in ends]
    if kinds != ["fromColumn", "toColumn"] * (len(kinds) // 2):
        raise TmdlError("relationships.tmdl: each relationship needs fromColumn then toColumn")
    return list(zip(pairs[::2], pairs[1::2], strict=True))
