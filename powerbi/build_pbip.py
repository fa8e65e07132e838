"""Build the Power BI Project `powerbi/SmartGrid.pbip` from the kit's sources, or check it.

    python powerbi/build_pbip.py           # (re)write SmartGrid.pbip, .SemanticModel/, .Report/
    python powerbi/build_pbip.py --check   # exit 1, naming the files, if they differ from a build

One source of truth: the Power Query M of every query and parameter is `queries/<Name>.pq`, the
DAX of every measure (and the one calculated column) is `measures.dax`; the model's shape (types
come from the M), the relationships and the report page are declared here. The generated files
are committed so the project opens in Power BI Desktop straight from a clone; the test suite runs
`--check`, so the sources and the project cannot drift apart. Edit the sources, never the
generated files (or port a change made in Desktop back to them, then rebuild).

Formats, from Microsoft's published schemas and docs: TMDL (tab-indented; an expression one level
deeper than its object's properties; `///` descriptions) and the PBIR report folder (one JSON
file per report, page and visual, each naming its `$schema`). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

KIT = Path(__file__).resolve().parent
QUERIES = KIT / "queries"
MEASURES = KIT / "measures.dax"
PROJECT = "SmartGrid"
MODEL_DIR = f"{PROJECT}.SemanticModel"
REPORT_DIR = f"{PROJECT}.Report"
PAGE = "overview"

SCHEMAS = "https://developer.microsoft.com/json-schemas/fabric"
SCHEMA = {
    "pbip": f"{SCHEMAS}/pbip/pbipProperties/1.0.0/schema.json",
    "pbism": f"{SCHEMAS}/item/semanticModel/definitionProperties/1.0.0/schema.json",
    "pbir": f"{SCHEMAS}/item/report/definitionProperties/2.0.0/schema.json",
    "version": f"{SCHEMAS}/item/report/definition/versionMetadata/1.0.0/schema.json",
    "report": f"{SCHEMAS}/item/report/definition/report/3.3.0/schema.json",
    "pages": f"{SCHEMAS}/item/report/definition/pagesMetadata/1.1.0/schema.json",
    "page": f"{SCHEMAS}/item/report/definition/page/2.1.0/schema.json",
    "visual": f"{SCHEMAS}/item/report/definition/visualContainer/2.9.0/schema.json",
}
# The report's base theme: a Power BI monthly base theme name (SharedResources), shipped in
# StaticResources with the dashboard's palette (dashboard/app.js).
BASE_THEME = "CY24SU10"

# --- Model --------------------------------------------------------------------------------

FACT = "MeterReadings"
DAYPARTS = "Dayparts"
# Queries in the order Power Query lists them; every queries/*.pq file is here exactly once.
QUERY_ORDER = (
    "SourceKind",
    "CsvPath",
    "AdlsTableUrl",
    "AdlsFormat",
    "DatabricksHost",
    "DatabricksHttpPath",
    "DatabricksCatalog",
    "DatabricksSchema",
    "fnUtcTimestamp",
    "SourceCsv",
    "SourceAdls",
    "SourceDatabricks",
    FACT,
    DAYPARTS,
)
# Queries loaded as tables (the rest are parameters, a function and the untyped sources).
TABLES = (FACT, DAYPARTS)
# Power Query types -> TMDL dataType.
M_TO_TMDL = {
    "text": "string",
    "number": "double",
    "Int64.Type": "int64",
    "date": "dateTime",
    "datetime": "dateTime",
}
# Format strings of the columns by Power Query type (measures carry theirs in measures.dax).
COLUMN_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:nn:ss", "Int64.Type": "0"}
SORT_BY = {(DAYPARTS, "time_of_day"): "sort_order"}
HIDDEN = {(DAYPARTS, "sort_order")}
# (many side, one side): Dayparts filters the readings and orders the legend.
RELATIONSHIPS = (((FACT, "time_of_day"), (DAYPARTS, "time_of_day")),)
COMPATIBILITY_LEVEL = 1567

# --- Report ---------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = 1280, 720
TOP_N = 10  # meters on the daypart and daily bars, as the dashboard's default --top
ACCENT, BAR, TARGET = "#2563eb", "#0f766e", "#dc2626"
# Night, Morning, Afternoon, Evening: the dashboard's daypart colours, in legend order.
DATA_COLOURS = ("#1e3a8a", "#f59e0b", "#ea580c", "#7c3aed", ACCENT, BAR, TARGET, "#15803d")
KPI_CARDS = (
    ("kpiAverageWatts", "Average Watts", "Average power (W)"),
    ("kpiTotalEnergy", "Total Energy kWh", "Total energy (kWh)"),
    ("kpiAverageDailyEnergy", "Average Daily kWh", "Average daily energy (kWh)"),
    ("kpiHighDemand", "High Demand %", "High demand"),
    ("kpiAnomalies", "Anomaly %", "Anomalies"),
    ("kpiAverageVoltage", "Average Voltage V", "Average voltage (V)"),
)


class BuildError(Exception):
    """The sources cannot be turned into a project (the message names the file and the fix)."""


# --- Sources ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One Power Query query: queries/<name>.pq, its leading // comment is its description."""

    name: str
    description: str
    code: str

    @property
    def kind(self) -> str:
        if self.name in TABLES:
            return "table"
        if re.search(r"\bIsParameterQuery\s*=\s*true\b", self.code):
            return "parameter"
        if self.code.startswith("("):
            return "function"
        return "expression"


@dataclass(frozen=True)
class Definition:
    """One `MEASURE` or `COLUMN` of measures.dax, with its `///` description and `// format:`."""

    kind: str
    table: str
    name: str
    expression: str
    description: str
    format: str | None


def split_comment_header(text: str) -> tuple[str, str]:
    """(leading // comment block without the slashes, the rest)."""
    lines = text.strip().splitlines()
    head = []
    while lines and lines[0].lstrip().startswith("//"):
        head.append(lines.pop(0).lstrip()[2:].strip())
    return " ".join(h for h in head if h), "\n".join(lines).strip()


def read_queries(folder: Path = QUERIES) -> list[Query]:
    found = {p.stem: p for p in folder.glob("*.pq")}
    if set(found) != set(QUERY_ORDER):
        raise BuildError(
            f"{folder}: queries {sorted(set(found) - set(QUERY_ORDER))} are not in "
            f"QUERY_ORDER and {sorted(set(QUERY_ORDER) - set(found))} have no .pq file: "
            "keep powerbi/build_pbip.py's QUERY_ORDER equal to the files"
        )
    queries = []
    for name in QUERY_ORDER:
        description, code = split_comment_header(found[name].read_text(encoding="utf-8"))
        queries.append(Query(name, description, code))
    return queries


DEFINITION = re.compile(r"^\s*(MEASURE|COLUMN)\s+'?(\w+)'?\[([^\]]+)\]\s*=\s*(.*)$")


def read_definitions(path: Path = MEASURES) -> list[Definition]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if DEFINITION.match(line)]
    if not starts:
        raise BuildError(f"{path}: no MEASURE or COLUMN definition found")
    end = next(
        (i for i, line in enumerate(lines) if line.startswith("EVALUATE")),
        len(lines),
    )
    definitions = []
    for n, start in enumerate(starts):
        kind, table, name, first = DEFINITION.match(lines[start]).groups()
        stop = starts[n + 1] if n + 1 < len(starts) else end
        body = [first, *lines[start + 1 : stop]] if first.strip() else lines[start + 1 : stop]
        # The comments closing a chunk head the next definition (or the EVALUATE previews).
        while body and (not body[-1].strip() or body[-1].lstrip().startswith("//")):
            body.pop()
        header = []
        i = start - 1
        while i >= 0 and lines[i].lstrip().startswith("//"):
            header.insert(0, lines[i].strip())
            i -= 1
        description = " ".join(h[3:].strip() for h in header if h.startswith("///"))
        formats = [h.split(":", 1)[1].strip() for h in header if h.startswith("// format:")]
        expression = textwrap.dedent("\n".join(body)).strip()
        if not expression:
            raise BuildError(f"{path}: {table}[{name}] has no expression")
        definitions.append(
            Definition(kind, table, name, expression, description, formats[0] if formats else None)
        )
    names = [(d.table, d.name) for d in definitions]
    if len(set(names)) != len(names):
        raise BuildError(f"{path}: a name is defined twice")
    return definitions


@dataclass(frozen=True)
class Column:
    name: str
    m_type: str  # Power Query type: text, number, Int64.Type, date, datetime

    @property
    def data_type(self) -> str:
        return M_TO_TMDL[self.m_type]


def fact_columns(query: Query) -> list[Column]:
    """The fact table's columns, in the order MeterReadings.pq selects them, typed as it types them."""
    code = strip_m_comments(query.code)
    selected = re.search(r"Table\.SelectColumns\(\s*\w+\s*,\s*\{(.*?)\}", code, re.S)
    if not selected:
        raise BuildError(
            f"{query.name}.pq: no Table.SelectColumns(Source, {{...}}) to take columns"
        )
    order = re.findall(r'"([^"]+)"', selected.group(1))
    typed = dict(
        re.findall(r'\{\s*"([^"]+)"\s*,\s*(?:\w+\s*,\s*)?(?:type\s+)?(\w+(?:\.Type)?)\s*\}', code)
    )
    missing = [c for c in order if c not in typed]
    if missing:
        raise BuildError(f"{query.name}.pq: no type for {missing}")
    return [Column(c, typed[c]) for c in order]


def dimension_columns(query: Query) -> list[Column]:
    """A #table's columns from its `type table [name = type, ...]`."""
    match = re.search(r"type\s+table\s*\[(.*?)\]", query.code, re.S)
    if not match:
        raise BuildError(f"{query.name}.pq: no `type table [...]` to take columns")
    pairs = re.findall(r"(\w+)\s*=\s*(\w+(?:\.Type)?)", match.group(1))
    return [Column(name, m_type) for name, m_type in pairs]


def strip_m_comments(code: str) -> str:
    return re.sub(r"//[^\n]*", "", code)


# --- TMDL ---------------------------------------------------------------------------------


def tmdl_name(name: str) -> str:
    """A TMDL object name, quoted unless it is a plain identifier."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return name
    return "'" + name.replace("'", "''") + "'"


def description_lines(text: str, indent: str) -> list[str]:
    if not text:
        return []
    return [f"{indent}/// {line}" for line in textwrap.wrap(text, 96)]


def expression_block(header: str, expression: str, indent: str) -> list[str]:
    """`header = expression` on one line, or the expression on the lines below at `indent`."""
    lines = expression.splitlines()
    if len(lines) == 1:
        return [f"{header} = {lines[0]}"]
    return [f"{header} =", *(f"{indent}{line}" if line.strip() else "" for line in lines)]


def tmdl_database() -> str:
    return f"database\n\tcompatibilityLevel: {COMPATIBILITY_LEVEL}\n"


def tmdl_model(queries: list[Query]) -> str:
    order = json.dumps([q.name for q in queries], separators=(",", ":"))
    refs = "\n".join(f"ref table {tmdl_name(t)}" for t in TABLES)
    return (
        "model Model\n"
        "\tculture: en-US\n"
        "\tdefaultPowerBIDataSourceVersion: powerBI_V3\n"
        "\tdiscourageImplicitMeasures\n"
        "\tsourceQueryCulture: en-US\n"
        "\tdataAccessOptions\n"
        "\t\tlegacyRedirects\n"
        "\t\treturnErrorValuesAsNull\n"
        "\n"
        # No auto date/time tables: timestamp and bucket_start stay continuous axes.
        "annotation __PBI_TimeIntelligenceEnabled = 0\n"
        "\n"
        f"annotation PBI_QueryOrder = {order}\n"
        "\n"
        f"{refs}\n"
        "\n"
        "ref cultureInfo en-US\n"
    )


def tmdl_culture() -> str:
    return "cultureInfo en-US\n"


RESULT_TYPE = {"parameter": "Text", "function": "Function", "expression": "Table"}


def tmdl_expressions(queries: list[Query]) -> str:
    blocks = []
    for q in queries:
        if q.kind == "table":
            continue
        lines = description_lines(q.description, "")
        lines += expression_block(f"expression {tmdl_name(q.name)}", q.code, "\t\t")
        lines += ["", f"\tannotation PBI_ResultType = {RESULT_TYPE[q.kind]}"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def tmdl_column(table: str, column: Column, definition: Definition | None = None) -> list[str]:
    header = f"\tcolumn {tmdl_name(column.name)}"
    lines = description_lines(definition.description if definition else "", "\t")
    if definition:
        lines += expression_block(header, definition.expression, "\t\t\t")
    else:
        lines.append(header)
    lines.append(f"\t\tdataType: {column.data_type}")
    if (table, column.name) in HIDDEN:
        lines.append("\t\tisHidden")
    fmt = definition.format if definition else COLUMN_FORMATS.get(column.m_type)
    if fmt:
        lines.append(f"\t\tformatString: {fmt}")
    lines.append("\t\tsummarizeBy: none")
    if not definition:
        lines.append(f"\t\tsourceColumn: {column.name}")
    if (table, column.name) in SORT_BY:
        lines.append(f"\t\tsortByColumn: {tmdl_name(SORT_BY[(table, column.name)])}")
    if column.m_type == "date":
        lines += ["", "\t\tannotation UnderlyingDateTimeDataType = Date"]
    return lines


def tmdl_measure(definition: Definition) -> list[str]:
    lines = description_lines(definition.description, "\t")
    lines += expression_block(
        f"\tmeasure {tmdl_name(definition.name)}", definition.expression, "\t\t\t"
    )
    if definition.format:
        lines.append(f"\t\tformatString: {definition.format}")
    return lines


def tmdl_table(query: Query, columns: list[Column], definitions: list[Definition]) -> str:
    parts = [[*description_lines(query.description, ""), f"table {tmdl_name(query.name)}"]]
    for d in definitions:
        if d.kind == "MEASURE":
            parts.append(tmdl_measure(d))
    for column in columns:
        parts.append(tmdl_column(query.name, column))
    for d in definitions:
        if d.kind == "COLUMN":
            parts.append(tmdl_column(query.name, calculated_column(d), d))
    partition = [f"\tpartition {tmdl_name(query.name)} = m", "\t\tmode: import"]
    partition += expression_block("\t\tsource", query.code, "\t\t\t\t")
    parts.append(partition)
    parts.append(["\tannotation PBI_ResultType = Table"])
    return "\n\n".join("\n".join(p) for p in parts) + "\n"


def calculated_column(definition: Definition) -> Column:
    """A calculated column's type: the DAX functions it ends with decide (dates only here)."""
    if re.search(r"\b(DATE|TIME)\s*\(", definition.expression):
        return Column(definition.name, "datetime")
    raise BuildError(
        f"measures.dax: cannot tell the type of COLUMN {definition.table}[{definition.name}]; "
        "teach build_pbip.calculated_column"
    )


def tmdl_relationships() -> str:
    blocks = []
    for (many_table, many_col), (one_table, one_col) in RELATIONSHIPS:
        key = f"{many_table}.{many_col}->{one_table}.{one_col}"
        blocks.append(
            f"relationship {uuid.uuid5(uuid.NAMESPACE_URL, 'smartgrid:' + key)}\n"
            f"\tfromColumn: {tmdl_name(many_table)}.{tmdl_name(many_col)}\n"
            f"\ttoColumn: {tmdl_name(one_table)}.{tmdl_name(one_col)}"
        )
    return "\n\n".join(blocks) + "\n"


def semantic_model(queries: list[Query], definitions: list[Definition]) -> dict[str, str]:
    by_name = {q.name: q for q in queries}
    unknown = {d.table for d in definitions} - {FACT}
    if unknown:
        raise BuildError(f"measures.dax: definitions on unknown tables {sorted(unknown)}")
    base = f"{MODEL_DIR}/definition"
    return {
        f"{MODEL_DIR}/definition.pbism": as_json(
            {"$schema": SCHEMA["pbism"], "version": "4.0", "settings": {}}
        ),
        f"{base}/database.tmdl": tmdl_database(),
        f"{base}/model.tmdl": tmdl_model(queries),
        f"{base}/cultures/en-US.tmdl": tmdl_culture(),
        f"{base}/expressions.tmdl": tmdl_expressions(queries),
        f"{base}/relationships.tmdl": tmdl_relationships(),
        f"{base}/tables/{FACT}.tmdl": tmdl_table(
            by_name[FACT], fact_columns(by_name[FACT]), definitions
        ),
        f"{base}/tables/{DAYPARTS}.tmdl": tmdl_table(
            by_name[DAYPARTS], dimension_columns(by_name[DAYPARTS]), []
        ),
    }


# --- Report (PBIR) --------------------------------------------------------------------------


def lit(value: object) -> dict:
    """A formatting literal: strings quoted, booleans bare, whole numbers with the L suffix."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = f"{value}L"
    elif isinstance(value, float):
        text = f"{value}D"
    else:
        text = "'" + str(value).replace("'", "''") + "'"
    return {"expr": {"Literal": {"Value": text}}}


def colour(hex_colour: str) -> dict:
    return {"solid": {"color": lit(hex_colour)}}


def column(table: str, name: str) -> dict:
    return {"Column": {"Expression": {"SourceRef": {"Entity": table}}, "Property": name}}


def measure(name: str, table: str = FACT) -> dict:
    return {"Measure": {"Expression": {"SourceRef": {"Entity": table}}, "Property": name}}


def projection(field: dict, display_name: str | None = None) -> dict:
    ref = next(iter(field.values()))
    table, name = ref["Expression"]["SourceRef"]["Entity"], ref["Property"]
    out = {"field": field, "queryRef": f"{table}.{name}", "nativeQueryRef": name}
    if display_name:
        out["displayName"] = display_name
    return out


def roles(**fields: list[dict]) -> dict:
    return {"queryState": {role: {"projections": p} for role, p in fields.items()}}


def sort_by(field: dict, direction: str = "Descending") -> dict:
    return {"sort": [{"field": field, "direction": direction}]}


def top_n(name: str, by_measure: str, count: int = TOP_N) -> dict:
    """A visual-level Top N meters filter ranked by a measure (the dashboard's --top)."""

    def meter_of(source: str) -> dict:
        return {"Column": {"Expression": {"SourceRef": {"Source": source}}, "Property": "meter_id"}}

    ranking = {
        "Version": 2,
        "From": [{"Name": "r", "Entity": FACT, "Type": 0}],
        "Select": [{**meter_of("r"), "Name": "field"}],
        "OrderBy": [
            {
                "Direction": 2,
                "Expression": {
                    "Measure": {
                        "Expression": {"SourceRef": {"Source": "r"}},
                        "Property": by_measure,
                    }
                },
            }
        ],
        "Top": count,
    }
    return {
        "name": name,
        "field": column(FACT, "meter_id"),
        "type": "TopN",
        "filter": {
            "Version": 2,
            "From": [
                {"Name": "subquery", "Expression": {"Subquery": {"Query": ranking}}, "Type": 2},
                {"Name": "m", "Entity": FACT, "Type": 0},
            ],
            "Where": [
                {
                    "Condition": {
                        "In": {
                            "Expressions": [meter_of("m")],
                            "Table": {"SourceRef": {"Source": "subquery"}},
                        }
                    }
                }
            ],
        },
        "howCreated": "User",
    }


def titled(title: str, subtitle: str | None = None) -> dict:
    out = {"title": [{"properties": {"show": lit(True), "text": lit(title)}}]}
    if subtitle:
        out["subTitle"] = [{"properties": {"show": lit(True), "text": lit(subtitle)}}]
    return out


@dataclass(frozen=True)
class Visual:
    name: str
    visual_type: str
    box: tuple[int, int, int, int]  # x, y, width, height
    query: dict
    container: dict | None = None
    objects: dict | None = None
    filters: tuple[dict, ...] = ()


def report_visuals() -> list[Visual]:
    """The page: the dashboard's KPI cards, its four visuals, a subtitle card and two slicers."""
    energy_by_meter = sort_by(measure("Total Energy kWh"))
    daily_by_meter = sort_by(measure("Average Daily kWh"))
    visuals = [
        Visual(
            "selectedMeter",
            "card",
            (16, 8, 600, 56),
            roles(Values=[projection(measure("Selected Meter"))]),
            objects={"categoryLabels": [{"properties": {"show": lit(False)}}]},
        ),
    ]
    slicers = (
        ("meterSlicer", "meter_id", "Meter", "Dropdown"),
        ("dateSlicer", "local_date", "Date", "Between"),
    )
    for i, (name, field, label, mode) in enumerate(slicers):
        visuals.append(
            Visual(
                name,
                "slicer",
                (760 + i * 256, 8, 248, 60),
                roles(Values=[projection(column(FACT, field), label)]),
                objects={"data": [{"properties": {"mode": lit(mode)}}]},
            )
        )
    for i, (name, field, label) in enumerate(KPI_CARDS):
        visuals.append(
            Visual(
                name,
                "card",
                (16 + i * 208, 76, 200, 96),
                roles(Values=[projection(measure(field), label)]),
            )
        )
    visuals += [
        Visual(
            "globalWattsTrend",
            "lineChart",
            (16, 180, 1248, 220),
            roles(
                Category=[projection(column(FACT, "bucket_start"), "Time (UTC)")],
                Y=[projection(measure("Average Watts"))],
            ),
            titled(
                "Global Watts Trend",
                "Fleet average real power per 15-minute bucket (UTC)",
            ),
            objects={"dataPoint": [{"properties": {"fill": colour(ACCENT)}}]},
        ),
        Visual(
            "meterEnergyByDaypart",
            "columnChart",
            (16, 408, 412, 300),
            {
                **roles(
                    Category=[projection(column(FACT, "meter_id"))],
                    Series=[projection(column(DAYPARTS, "time_of_day"))],
                    Y=[projection(measure("Total Energy kWh"))],
                ),
                "sortDefinition": energy_by_meter,
            },
            titled(
                "Meter Energy by Daypart",
                f"kWh by time of day, top {TOP_N} meters by energy",
            ),
            filters=(top_n("topMetersByEnergy", "Total Energy kWh"),),
        ),
        Visual(
            "dailyKwhPerMeter",
            "clusteredBarChart",
            (436, 408, 412, 300),
            {
                **roles(
                    Category=[projection(column(FACT, "meter_id"))],
                    Y=[projection(measure("Average Daily kWh"))],
                    Tooltips=[projection(measure("Meter Mean Daily kWh"))],
                ),
                "sortDefinition": daily_by_meter,
            },
            titled(
                "Daily kWh per Meter",
                f"Average daily kWh, top {TOP_N} meters; tooltip: mean of every meter",
            ),
            objects={
                "dataPoint": [{"properties": {"fill": colour(BAR)}}],
                "labels": [{"properties": {"show": lit(True)}}],
            },
            filters=(top_n("topMetersByDailyEnergy", "Average Daily kWh"),),
        ),
        Visual(
            "targetDailyKwh",
            "gauge",
            (856, 408, 408, 300),
            roles(
                Y=[projection(measure("Average Daily kWh"))],
                MinValue=[projection(measure("Min Daily kWh"))],
                MaxValue=[projection(measure("Max Daily kWh"))],
                TargetValue=[projection(measure("Rolling Target kWh"))],
                Tooltips=[projection(measure("Daily kWh vs Target %"))],
            ),
            titled(
                "Target Daily kWh",
                "Average daily kWh within the min-max range; target: mean of the last 7 days",
            ),
        ),
    ]
    return visuals


def visual_json(visual: Visual, order: int) -> dict:
    x, y, width, height = visual.box
    body: dict = {"visualType": visual.visual_type, "query": visual.query}
    if visual.objects:
        body["objects"] = visual.objects
    if visual.container:
        body["visualContainerObjects"] = visual.container
    body["drillFilterOtherVisuals"] = True
    out = {
        "$schema": SCHEMA["visual"],
        "name": visual.name,
        "position": {
            "x": x,
            "y": y,
            "z": order * 1000,
            "height": height,
            "width": width,
            "tabOrder": order * 1000,
        },
        "visual": body,
    }
    if visual.filters:
        out["filterConfig"] = {"filters": list(visual.filters)}
    return out


def base_theme() -> dict:
    return {
        "name": BASE_THEME,
        "dataColors": list(DATA_COLOURS),
        "foreground": "#0f172a",
        "foregroundNeutralSecondary": "#64748b",
        "foregroundNeutralTertiary": "#94a3b8",
        "background": "#ffffff",
        "backgroundLight": "#f3f5f9",
        "backgroundNeutral": "#e2e8f0",
        "tableAccent": ACCENT,
        "good": "#15803d",
        "neutral": "#b45309",
        "bad": TARGET,
        "maximum": ACCENT,
        "center": "#b45309",
        "minimum": "#dbeafe",
        "null": "#94a3b8",
        "hyperlink": ACCENT,
        "visitedHyperlink": "#7c3aed",
    }


def report() -> dict[str, str]:
    base = f"{REPORT_DIR}/definition"
    theme_path = f"BaseThemes/{BASE_THEME}.json"
    files = {
        f"{REPORT_DIR}/definition.pbir": as_json(
            {
                "$schema": SCHEMA["pbir"],
                "version": "4.0",
                "datasetReference": {"byPath": {"path": f"../{MODEL_DIR}"}},
            }
        ),
        f"{REPORT_DIR}/StaticResources/SharedResources/{theme_path}": as_json(base_theme()),
        f"{base}/version.json": as_json({"$schema": SCHEMA["version"], "version": "2.0.0"}),
        f"{base}/report.json": as_json(
            {
                "$schema": SCHEMA["report"],
                "themeCollection": {
                    "baseTheme": {
                        "name": BASE_THEME,
                        "reportVersionAtImport": {
                            "visual": schema_version("visual"),
                            "report": schema_version("report"),
                            "page": schema_version("page"),
                        },
                        "type": "SharedResources",
                    }
                },
                "resourcePackages": [
                    {
                        "name": "SharedResources",
                        "type": "SharedResources",
                        "items": [{"name": BASE_THEME, "path": theme_path, "type": "BaseTheme"}],
                    }
                ],
                "settings": {
                    "useStylableVisualContainerHeader": True,
                    "defaultDrillFilterOtherVisuals": True,
                    "allowChangeFilterTypes": True,
                    "useEnhancedTooltips": True,
                },
            }
        ),
        f"{base}/pages/pages.json": as_json(
            {"$schema": SCHEMA["pages"], "pageOrder": [PAGE], "activePageName": PAGE}
        ),
        f"{base}/pages/{PAGE}/page.json": as_json(
            {
                "$schema": SCHEMA["page"],
                "name": PAGE,
                "displayName": "Smart-grid meter analytics",
                "displayOption": "FitToPage",
                "height": PAGE_HEIGHT,
                "width": PAGE_WIDTH,
            }
        ),
    }
    for order, visual in enumerate(report_visuals()):
        path = f"{base}/pages/{PAGE}/visuals/{visual.name}/visual.json"
        files[path] = as_json(visual_json(visual, order))
    return files


def schema_version(kind: str) -> str:
    return SCHEMA[kind].split("/")[-2]


# --- The project ----------------------------------------------------------------------------


def as_json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def build() -> dict[str, str]:
    """Every generated file, by path relative to powerbi/, with its text."""
    queries = read_queries()
    definitions = read_definitions()
    files = {
        f"{PROJECT}.pbip": as_json(
            {
                "$schema": SCHEMA["pbip"],
                "version": "1.0",
                "artifacts": [{"report": {"path": REPORT_DIR}}],
                "settings": {"enableAutoRecovery": True},
            }
        )
    }
    files.update(semantic_model(queries, definitions))
    files.update(report())
    return files


def generated_paths(root: Path = KIT) -> set[str]:
    """Files now under the generated folders (Desktop's local .pbi/ files are not ours)."""
    found = {f"{PROJECT}.pbip"} if (root / f"{PROJECT}.pbip").exists() else set()
    for folder in (MODEL_DIR, REPORT_DIR):
        for path in (root / folder).rglob("*"):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and "/.pbi/" not in f"/{rel}":
                found.add(rel)
    return found


def differences(files: dict[str, str], root: Path = KIT) -> list[str]:
    problems = []
    for rel, text in sorted(files.items()):
        path = root / rel
        if not path.exists():
            problems.append(f"missing: {rel}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"differs: {rel}")
    problems += [f"not generated: {rel}" for rel in sorted(generated_paths(root) - set(files))]
    return problems


def write(files: dict[str, str], root: Path = KIT) -> None:
    for rel in generated_paths(root) - set(files):
        (root / rel).unlink()
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if the project is stale"
    )
    args = parser.parse_args(argv)
    try:
        files = build()
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        problems = differences(files)
        if problems:
            print(
                "powerbi/ is stale (run `python powerbi/build_pbip.py`):\n  "
                + "\n  ".join(problems),
                file=sys.stderr,
            )
            return 1
        print(f"powerbi/{PROJECT}.pbip: {len(files)} files up to date")
        return 0
    write(files)
    print(f"powerbi/{PROJECT}.pbip: wrote {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
