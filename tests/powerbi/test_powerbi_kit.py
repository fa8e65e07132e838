"""The Power BI kit names only columns the curated CSV has, with the CSV's types.

The header comes from the exported CSV when ``SMARTGRID_CURATED_CSV`` names one, otherwise from
the contract module ``smartgrid.report.columns`` (the single list the dashboard reads too), which
is itself checked against the dbt mart's enforced contract.
"""

from __future__ import annotations

import csv
import json
import os
import re
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from smartgrid.report.columns import (
    CURATED_CSV_COLUMNS,
    CURATED_CSV_HEADER,
    CURATED_CSV_NAME,
    DAYPARTS,
    READINGS_TABLE,
)

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "powerbi"
QUERIES = KIT / "queries"
FACT = "MeterReadings"
DAYPART_DIM = "Dayparts"
DAYPART_DIM_COLUMNS = {"time_of_day", "start_hour", "end_hour", "sort_order"}
# The contract's logical types as Power Query types.
M_TYPES = {
    "timestamp": "type datetime",
    "date": "type date",
    "string": "type text",
    "double": "type number",
    "int": "Int64.Type",
}
REQUIRED_MEASURES = {
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
    path = os.environ.get("SMARTGRID_CURATED_CSV")
    if not path:
        return CURATED_CSV_HEADER
    with open(path, newline="", encoding="utf-8") as fh:
        return tuple(next(csv.reader(fh)))


def strip_comments(code: str, line_comments: tuple[str, ...]) -> str:
    """Drop comments but keep string literals ("..." with "" escapes) intact."""
    out, i = [], 0
    while i < len(code):
        if code[i] == '"':
            j = i + 1
            while j < len(code):
                if code[j] == '"':
                    if code.startswith('""', j):
                        j += 2
                        continue
                    break
                j += 1
            out.append(code[i : j + 1])
            i = j + 1
        elif code.startswith("/*", i):
            i = code.index("*/", i) + 2
        elif any(code.startswith(mark, i) for mark in line_comments):
            i = code.find("\n", i) if "\n" in code[i:] else len(code)
        else:
            out.append(code[i])
            i += 1
    return "".join(out)


def m_code(name: str) -> str:
    return strip_comments((QUERIES / name).read_text(encoding="utf-8"), ("//",))


def dax_code() -> str:
    return strip_comments((KIT / "measures.dax").read_text(encoding="utf-8"), ("//", "--"))


def defined_measures(code: str) -> set[str]:
    return set(re.findall(rf"MEASURE\s+'?{FACT}'?\[([^\]]+)\]\s*=", code))


def table_column_refs(code: str) -> list[tuple[str, str]]:
    """Every Table[Column] (or 'Table'[Column]) reference, measure definitions excluded."""
    code = re.sub(rf"MEASURE\s+'?{FACT}'?\[[^\]]+\]\s*=", "", code)
    return [
        (quoted or bare, column)
        for quoted, bare, column in re.findall(r"(?:'([^']+)'|\b([A-Za-z_]\w*))\[([^\]]+)\]", code)
    ]


def bare_refs(code: str) -> set[str]:
    """Every [Name] not preceded by a table name: a measure reference."""
    return set(re.findall(r"(?<![\w'\]])\[([^\]]+)\]", code))


# --- The contract itself ------------------------------------------------------------------


def test_contract_module_matches_the_dbt_mart_contract() -> None:
    models = yaml.safe_load((ROOT / "models" / "marts" / "_marts__models.yml").read_text())
    [mart] = [m for m in models["models"] if m["name"] == READINGS_TABLE]
    assert [(col["name"], col["data_type"]) for col in mart["columns"]] == [
        (col.name, col.kind) for col in CURATED_CSV_COLUMNS
    ]


def test_real_csv_values_parse_as_their_types(header) -> None:
    """With an exported CSV: its first rows parse as the types Power Query gives them."""
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


# --- Power Query M ------------------------------------------------------------------------


def test_meter_readings_selects_the_csv_columns_in_order(header) -> None:
    code = m_code("MeterReadings.pq")
    match = re.search(
        r"Table\.SelectColumns\(\s*Source,\s*\{(.*?)\}\s*,\s*MissingField\.Error", code, re.S
    )
    assert match, "MeterReadings.pq must select its columns with MissingField.Error"
    assert tuple(re.findall(r'"([^"]+)"', match.group(1))) == header


def test_meter_readings_types_every_column_as_the_contract(header) -> None:
    code = m_code("MeterReadings.pq")
    typed = re.findall(r'\{\s*"([^"]+)"\s*,\s*(?:\w+\s*,\s*)?(type \w+|Int64\.Type)\s*\}', code)
    names = [name for name, _ in typed]
    assert sorted(names) == sorted(header), "every column typed exactly once"
    kinds = {col.name: col.kind for col in CURATED_CSV_COLUMNS}
    assert {name: m_type for name, m_type in typed} == {
        name: M_TYPES[kinds[name]] for name in header
    }


@pytest.mark.parametrize("query", sorted(p.name for p in QUERIES.glob("*.pq")))
def test_every_column_named_in_m_exists(query: str, header) -> None:
    code = m_code(query)
    # Column names are the lower_snake_case string literals (parameters, cultures and values
    # such as "ADLS", "en-US" or "Night" are not).
    literals = set(re.findall(r'"([a-z][a-z0-9_]*)"', code))
    allowed = set(header) | (DAYPART_DIM_COLUMNS if query == "Dayparts.pq" else set())
    assert literals <= allowed, f"{query} names unknown columns: {sorted(literals - allowed)}"
    # Record field access on our tables ([Extension], [Folder Path] are the file listing's).
    fields = set(re.findall(r"\[([a-z][a-z0-9_]*)\]", code))
    assert fields <= allowed


def test_dayparts_dimension_matches_the_daypart_values() -> None:
    code = m_code("Dayparts.pq")
    assert tuple(re.findall(r'\{"(\w+)",', code)) == DAYPARTS
    assert "time_of_day" in CURATED_CSV_HEADER


def test_source_switch_and_parameters_agree() -> None:
    kinds = re.findall(r'"(\w+)"', m_code("SourceKind.pq").split("List")[1].split("}")[0])
    assert set(kinds) == {"CSV", "ADLS"}
    assert 'SourceKind = "ADLS"' in m_code("MeterReadings.pq")
    formats = re.findall(r'"(\w+)"', m_code("AdlsFormat.pq").split("List")[1].split("}")[0])
    assert 'AdlsFormat = "Delta"' in m_code("SourceAdls.pq") and "Delta" in formats
    for name in ("SourceKind", "CsvPath", "AdlsTableUrl", "AdlsFormat"):
        assert "IsParameterQuery = true" in m_code(f"{name}.pq"), name
        # Each parameter is used by a source query.
        assert any(name in m_code(q) for q in ("SourceCsv.pq", "SourceAdls.pq", "MeterReadings.pq"))
    assert "DeltaLake.Table(" in m_code("SourceAdls.pq")
    assert "AzureStorage.DataLake(AdlsTableUrl" in m_code("SourceAdls.pq")
    assert "File.Contents(CsvPath)" in m_code("SourceCsv.pq")


# --- DAX ----------------------------------------------------------------------------------


def test_dax_defines_the_report_measures() -> None:
    measures = defined_measures(dax_code())
    assert measures >= REQUIRED_MEASURES, sorted(REQUIRED_MEASURES - measures)


def test_every_column_named_in_dax_exists(header) -> None:
    code = dax_code()
    measures = defined_measures(code)
    refs = table_column_refs(code)
    assert refs, "the parser found no column reference"
    for table, column in refs:
        if table == FACT:
            assert column in header, f"{FACT}[{column}] is not a CSV column"
        elif table == DAYPART_DIM:
            assert column in DAYPART_DIM_COLUMNS
        else:
            pytest.fail(f"unknown table {table!r} in {table}[{column}]")
    # Bare [Name] references are measures defined here.
    assert bare_refs(code) <= measures, sorted(bare_refs(code) - measures)


def test_dax_measures_are_balanced() -> None:
    code = dax_code()
    bodies = re.split(r"\bMEASURE\b|\bEVALUATE\b", code)[1:]
    assert len(bodies) >= len(REQUIRED_MEASURES)
    for body in bodies:
        text = re.sub(r'"(?:[^"]|"")*"', '""', body)
        assert text.count("(") == text.count(")"), body[:80]


def test_rolling_window_matches_the_dbt_var() -> None:
    window = re.search(r"VAR WindowDays = (\d+)", dax_code())
    dbt = re.search(
        r"^\s*rolling_window_days:\s*(\d+)", (ROOT / "dbt_project.yml").read_text(), re.M
    )
    assert window and dbt
    assert window.group(1) == dbt.group(1)


# --- README and .pbids --------------------------------------------------------------------


def test_readme_names_only_real_measures_and_columns(header) -> None:
    readme = (KIT / "README.md").read_text(encoding="utf-8")
    measures = defined_measures(dax_code())
    named = set(re.findall(r"`\[([^\]]+)\]`", readme))
    assert named >= REQUIRED_MEASURES, "the README places every report measure"
    assert named <= measures
    for table, column in re.findall(r"`(\w+)\[([^\]]+)\]`", readme):
        allowed = set(header) if table == FACT else DAYPART_DIM_COLUMNS
        assert table in {FACT, DAYPART_DIM} and column in allowed, f"{table}[{column}]"
    # The column table of the README lists the CSV's columns, in order.
    listed = re.findall(r"^\| `(\w+)` \| (?:Date|Text|Decimal|Whole)", readme, re.M)
    assert tuple(listed) == header


def test_pbids_opens_the_curated_csv() -> None:
    pbids = json.loads((KIT / "smart_grid_curated.pbids").read_text(encoding="utf-8"))
    assert pbids["version"] == "0.1"
    [connection] = pbids["connections"]
    assert connection["details"]["protocol"] == "file"
    assert connection["details"]["address"]["path"].endswith("\\" + CURATED_CSV_NAME)
