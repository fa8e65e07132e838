"""The semantic model (TMDL) matches the pipeline's contract, and its DAX and M parse.

Columns come from the CSV header the pipeline exports and the dbt mart's enforced contract; the
DAX and M are parsed with pbi-parsers (PyPI), which is an analysis parser, not Power BI's engine:
what it cannot read is worked around below and said where.
"""

from __future__ import annotations

import csv
import os
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from pbi_parsers import dax, pq
from pbi_parsers.dax.exprs import any_expression_match as dax_any_expression
from pbi_parsers.pq.exprs import any_expression_match as pq_any_expression
from project import (
    CURATED_CSV_COLUMNS,
    CURATED_CSV_HEADER,
    CURATED_CSV_NAME,
    DAYPARTS,
    READINGS_TABLE,
    dbt_var,
    mart_contract,
)

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "powerbi"
FACT, DAYPART_DIM = "MeterReadings", "Dayparts"
# The dbt contract's data types as TMDL dataTypes.
CONTRACT_TO_TMDL = {
    "timestamp": "dateTime",
    "date": "dateTime",
    "string": "string",
    "double": "double",
    "int": "int64",
}
REPORT_MEASURES = {
    "Total Energy kWh",
    "Average Daily kWh",
    "Min Daily kWh",
    "Max Daily kWh",
    "Rolling Target kWh",
    "High Demand %",
    "Anomaly %",
    "Average Voltage V",
    "Average Watts",
    "Selected Meter",
}


@pytest.fixture(scope="module")
def header() -> tuple[str, ...]:
    """The exported CSV's header: a real export when SMARTGRID_CURATED_CSV names one, else the
    contract module the exporter and the dashboard share."""
    path = os.environ.get("SMARTGRID_CURATED_CSV")
    if not path:
        return CURATED_CSV_HEADER
    with open(path, newline="", encoding="utf-8") as fh:
        return tuple(next(csv.reader(fh)))


# --- Columns --------------------------------------------------------------------------------


def data_columns(table):
    return [c for c in table.columns.values() if not c.calculated]


def test_fact_columns_are_the_csv_header_in_order(model, header) -> None:
    columns = data_columns(model.tables[FACT])
    assert tuple(c.name for c in columns) == header
    assert all(c.properties["sourceColumn"] == c.name for c in columns)


def test_fact_columns_are_typed_as_the_marts_contract(model) -> None:
    contract = mart_contract(READINGS_TABLE)
    columns = data_columns(model.tables[FACT])
    assert [(c.name, c.properties["dataType"]) for c in columns] == [
        (name, CONTRACT_TO_TMDL[kind]) for name, kind in contract
    ]
    # The contract module the exporter and dashboard read says the same.
    assert [(c.name, c.kind) for c in CURATED_CSV_COLUMNS] == contract


def test_only_measures_dax_adds_calculated_columns(kit, model) -> None:
    calculated = {c.name for c in model.tables[FACT].columns.values() if c.calculated}
    assert calculated == {d.name for d in kit.read_definitions() if d.kind == "COLUMN"}
    assert calculated.isdisjoint(CURATED_CSV_HEADER)
    for table in model.tables.values():
        for c in table.columns.values():
            assert c.calculated != ("sourceColumn" in c.properties), c.name


def test_real_csv_values_parse_as_their_types(header) -> None:
    """With an exported CSV: its first rows parse as the types the model gives them."""
    path = os.environ.get("SMARTGRID_CURATED_CSV")
    if not path:
        pytest.skip("set SMARTGRID_CURATED_CSV to an exported smart_grid_curated.csv")
    assert header == CURATED_CSV_HEADER
    parse = {
        "timestamp": lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")),
        "date": date.fromisoformat,
        "string": str,
        "double": float,
        "int": int,
    }
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:100]
    assert rows, "the CSV has no data row"
    for row in rows:
        for col in CURATED_CSV_COLUMNS:
            if row[col.name] != "":
                parse[col.kind](row[col.name])


def test_dayparts_dimension_sorts_and_relates(model) -> None:
    dim = model.tables[DAYPART_DIM]
    assert dim.columns["time_of_day"].properties["sortByColumn"] == "sort_order"
    assert dim.columns["sort_order"].properties.get("isHidden") == "true"
    rows = re.findall(r'\{"(\w+)", (\d+), (\d+), (\d+)\}', dim.partitions[DAYPART_DIM])
    assert tuple(r[0] for r in rows) == DAYPARTS
    assert [int(r[3]) for r in rows] == [1, 2, 3, 4]
    # Hours cover the day once.
    assert [h for r in rows for h in range(int(r[1]), int(r[2]) + 1)] == list(range(24))
    assert model.relationships == [((FACT, "time_of_day"), (DAYPART_DIM, "time_of_day"))]


def test_model_switches_off_auto_date_time(kit) -> None:
    """No hidden date tables: timestamp and bucket_start stay continuous axes."""
    text = (KIT / kit.MODEL_DIR / "definition" / "model.tmdl").read_text(encoding="utf-8")
    assert "annotation __PBI_TimeIntelligenceEnabled = 0" in text
    assert "discourageImplicitMeasures" in text


# --- DAX ------------------------------------------------------------------------------------


def parse_whole(module, code: str):
    """Parse `code` with pbi-parsers (`dax` or `pq`) and insist every token was used (the
    library's own end-of-input check is an `assert`, which `python -O` would drop)."""
    match = dax_any_expression if module is dax else pq_any_expression
    tokens = module.main.remove_non_executing_tokens(module.Lexer(code).scan())
    parser = module.Parser(tokens)
    tree = match(parser)
    if tree is None or parser.peek().tok_type != module.TokenType.EOF:
        raise ValueError(f"not parsed whole: {code[:60]!r}")
    return tree


def dax_expressions(model):
    fact = model.tables[FACT]
    return {
        **{f"[{m.name}]": m.expression for m in fact.measures.values()},
        **{f"{FACT}[{c.name}]": c.expression for c in fact.columns.values() if c.calculated},
    }


def test_every_measure_and_calculated_column_parses(model) -> None:
    expressions = dax_expressions(model)
    assert {n[1:-1] for n in expressions if n.startswith("[")} >= REPORT_MEASURES
    for name, code in expressions.items():
        try:
            parse_whole(dax, code)
        except Exception as exc:
            pytest.fail(f"{name} does not parse: {exc}")


def test_measures_dax_previews_parse() -> None:
    """measures.dax is a DAX *query* (DEFINE ... EVALUATE): pbi-parsers parses expressions, not
    query wrappers, so the definitions are parsed from the model (above) and each EVALUATE's
    table expression here."""
    text = (KIT / "measures.dax").read_text(encoding="utf-8")
    previews = text.split("\nEVALUATE\n")[1:]
    assert len(previews) == 2
    for preview in previews:
        parse_whole(dax, preview.split("\n//")[0])


def test_dax_parser_rejects_broken_dax() -> None:
    """Negative control: the parse check above fails on broken DAX."""
    for broken in ("SUM ( MeterReadings[energy_kwh] ", "CALCULATE ( [A] ) )", "1 +* 2"):
        with pytest.raises((ValueError, AssertionError)):
            parse_whole(dax, broken)


def dax_references(code: str) -> tuple[set[tuple[str, str]], set[str]]:
    """(Table[Column] references, bare [Measure] references), from pbi-parsers' DAX lexer."""
    tokens = dax.main.remove_non_executing_tokens(dax.Lexer(code).scan())
    columns, measures = set(), set()
    for prev, tok in zip([None, *tokens], tokens, strict=False):
        if tok.tok_type != dax.TokenType.BRACKETED_IDENTIFIER:
            continue
        name = tok.text[1:-1]
        if prev is not None and prev.tok_type in (
            dax.TokenType.UNQUOTED_IDENTIFIER,
            dax.TokenType.SINGLE_QUOTED_IDENTIFIER,
        ):
            columns.add((prev.text.strip("'"), name))
        else:
            measures.add(name)
    return columns, measures


def test_every_column_and_measure_the_dax_names_exists(model) -> None:
    fact = model.tables[FACT]
    for name, code in dax_expressions(model).items():
        columns, measures = dax_references(code)
        for table, column in columns:
            assert column in model.tables[table].columns, f"{name}: {table}[{column}]"
        assert measures <= set(fact.measures), f"{name}: {measures - set(fact.measures)}"


def test_windows_in_dax_equal_the_dbt_vars(model) -> None:
    fact = model.tables[FACT]
    window = re.search(r"VAR WindowDays = (\d+)", fact.measures["Rolling Target kWh"].expression)
    bucket = re.search(r"VAR BucketMinutes = (\d+)", fact.columns["bucket_start"].expression)
    assert int(window.group(1)) == dbt_var("rolling_window_days")
    assert int(bucket.group(1)) == dbt_var("trend_bucket_minutes")
    # TIME(h, m, 0) buckets are aligned like dbt's (epoch multiples) only within an hour.
    assert 60 % int(bucket.group(1)) == 0


# --- Power Query M ----------------------------------------------------------------------------


def untyped_signature(code: str) -> str:
    """pbi-parsers' M parser does not read typed function parameters or return types
    (`(value as any) as nullable datetime =>`): drop the `as <type>` parts, parse the rest."""
    match = re.match(r"\(([^)]*)\)\s*(?:as\s+(?:nullable\s+)?[\w.]+\s*)?=>", code)
    assert match, "not a function"
    params = [p.split(" as ")[0].strip() for p in match.group(1).split(",")]
    return f"({', '.join(params)}) =>" + code[match.end() :]


def m_queries(model) -> dict[str, str]:
    return {
        **model.expressions,
        **{name: t.partitions[name] for name, t in model.tables.items()},
    }


def test_every_query_parses(model) -> None:
    queries = m_queries(model)
    assert len(queries) == 14
    for name, code in queries.items():
        if code.startswith("("):
            # The documented gap: the typed function does not parse as it is...
            with pytest.raises((ValueError, AssertionError)):
                parse_whole(pq, code)
            code = untyped_signature(code)
        try:
            parse_whole(pq, code)
        except Exception as exc:
            pytest.fail(f"{name} does not parse: {exc}")


def test_m_parser_rejects_broken_m() -> None:
    for broken in ("let a = 1 in", 'Table.SelectColumns(S, {"a"}', "let a = , in a"):
        with pytest.raises((ValueError, AssertionError)):
            parse_whole(pq, broken)


def strip_m_comments(code: str) -> str:
    return re.sub(r"//[^\n]*", "", code)


def test_m_names_only_contract_columns(model, header) -> None:
    allowed = set(header) | set(model.tables[DAYPART_DIM].columns)
    for name, code in m_queries(model).items():
        code = strip_m_comments(code)
        if "IsParameterQuery = true" in code:
            continue  # a parameter's literals are its values
        # Column names are the lower_snake_case string literals and field accesses (values such
        # as "ADLS", "en-US" or "Night" are not; [Extension] is the file listing's).
        literals = set(re.findall(r'"([a-z][a-z0-9_]*)"', code)) - {READINGS_TABLE}
        fields = set(re.findall(r"\[([a-z][a-z0-9_]*)\]", code))
        assert literals | fields <= allowed, f"{name}: {sorted((literals | fields) - allowed)}"


def parameter_list(code: str) -> list[str]:
    return re.findall(r'"(\w+)"', re.search(r"List = \{([^}]*)\}", code).group(1))


def test_one_parameter_picks_the_source(model) -> None:
    queries = {n: strip_m_comments(c) for n, c in m_queries(model).items()}
    kinds = parameter_list(queries["SourceKind"])
    assert kinds == ["CSV", "ADLS", "Databricks"]
    sources = re.search(r"Sources = \[(.*?)\]", queries[FACT]).group(1)
    assert dict(re.findall(r"(\w+) = (\w+)", sources)) == {
        "CSV": "SourceCsv",
        "ADLS": "SourceAdls",
        "Databricks": "SourceDatabricks",
    }
    assert "Record.Field(Sources, SourceKind)" in queries[FACT]
    assert "File.Contents(CsvPath)" in queries["SourceCsv"]
    assert "AzureStorage.DataLakeContents(CsvPath)" in queries["SourceCsv"]
    assert "AzureStorage.DataLake(AdlsTableUrl" in queries["SourceAdls"]
    assert "DeltaLake.Table(" in queries["SourceAdls"]
    assert parameter_list(queries["AdlsFormat"]) == ["Delta", "Parquet"]
    assert (
        "Databricks.Catalogs(\n        DatabricksHost,\n        DatabricksHttpPath,"
        in queries["SourceDatabricks"]
    )
    # Unity Catalog: catalog > schema > the mart the CSV is exported from.
    navigation = re.findall(r'\{\[Name = ([\w"]+), Kind = "(\w+)"\]\}', queries["SourceDatabricks"])
    assert navigation == [
        ("DatabricksCatalog", "Database"),
        ("DatabricksSchema", "Schema"),
        (f'"{READINGS_TABLE}"', "Table"),
    ]


def test_every_parameter_is_required_and_used(model) -> None:
    queries = {n: strip_m_comments(c) for n, c in m_queries(model).items()}
    parameters = [n for n, c in queries.items() if "IsParameterQuery = true" in c]
    assert len(parameters) == 8
    for name in parameters:
        assert "IsParameterQueryRequired = true" in queries[name]
        users = [n for n, c in queries.items() if n != name and re.search(rf"\b{name}\b", c)]
        assert users, f"parameter {name} is not used"


# --- README -----------------------------------------------------------------------------------


def test_readme_names_only_real_measures_and_columns(model, header) -> None:
    readme = (KIT / "README.md").read_text(encoding="utf-8")
    measures = set(model.tables[FACT].measures)
    named = set(re.findall(r"`\[([^\]]+)\]`", readme))
    assert named >= REPORT_MEASURES, "the README places every report measure"
    assert named <= measures
    for table, column in re.findall(r"`(\w+)\[([^\]]+)\]`", readme):
        assert column in model.tables[table].columns, f"{table}[{column}]"
    # The column table of the README lists the CSV's columns, in order.
    listed = re.findall(r"^\| `(\w+)` \| (?:Date|Text|Decimal|Whole)", readme, re.M)
    assert tuple(listed) == header
    assert CURATED_CSV_NAME in readme
    for parameter in ("SourceKind", "CsvPath", "AdlsTableUrl", "DatabricksHost"):
        assert f"`{parameter}`" in readme
