"""The Power BI Project (powerbi/SmartGrid.pbip) is what its sources say, is valid against
Microsoft's published schemas, and every field its report names exists in its model.

What only Power BI Desktop can confirm (that it opens and renders, on Windows) is left to the
user; everything here is checked offline.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import validators
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT7

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "powerbi"
SCHEMA_PREFIX = "https://developer.microsoft.com/json-schemas/"

# Built-in visual types, as Power BI Desktop writes them in visual.json (`visualType` is a free
# string in the schema). A custom visual would be named by its GUID and is not used here.
KNOWN_VISUAL_TYPES = {
    "actionButton",
    "areaChart",
    "barChart",
    "basicShape",
    "card",
    "cardVisual",
    "clusteredBarChart",
    "clusteredColumnChart",
    "columnChart",
    "decompositionTreeVisual",
    "donutChart",
    "filledMap",
    "funnel",
    "gauge",
    "hundredPercentStackedBarChart",
    "hundredPercentStackedColumnChart",
    "image",
    "keyDriversVisual",
    "kpi",
    "lineChart",
    "lineClusteredColumnComboChart",
    "lineStackedColumnComboChart",
    "map",
    "multiRowCard",
    "pieChart",
    "pivotTable",
    "ribbonChart",
    "scatterChart",
    "shape",
    "slicer",
    "stackedAreaChart",
    "tableEx",
    "textbox",
    "treemap",
    "waterfallChart",
}
# The data roles (field wells) of the types this report uses: a misspelt role is silently empty.
VISUAL_ROLES = {
    "card": {"Values"},
    "slicer": {"Values"},
    "lineChart": {"Category", "Series", "Y", "Y2", "Tooltips"},
    "columnChart": {"Category", "Series", "Y", "Tooltips"},
    "clusteredBarChart": {"Category", "Series", "Y", "Tooltips"},
    "gauge": {"Y", "MinValue", "MaxValue", "TargetValue", "Tooltips"},
}


# --- One source of truth ------------------------------------------------------------------


def test_committed_project_is_what_the_sources_build() -> None:
    """`build_pbip.py --check` passes: the TMDL and report are generated from queries/*.pq,
    measures.dax and the generator, and nobody edited the generated files by hand."""
    result = subprocess.run(
        [sys.executable, str(KIT / "build_pbip.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_check_names_a_stale_file(kit, tmp_path: Path) -> None:
    """The drift check fails, naming the file, when a generated file and its sources differ."""
    files = kit.build()
    kit.write(files, tmp_path)
    assert kit.differences(files, tmp_path) == []
    measures = tmp_path / kit.MODEL_DIR / "definition" / "tables" / "MeterReadings.tmdl"
    measures.write_text(measures.read_text().replace("AVERAGE (", "MEDIAN ("), encoding="utf-8")
    (tmp_path / kit.REPORT_DIR / "stray.json").write_text("{}", encoding="utf-8")
    assert kit.differences(files, tmp_path) == [
        f"differs: {kit.MODEL_DIR}/definition/tables/MeterReadings.tmdl",
        f"not generated: {kit.REPORT_DIR}/stray.json",
    ]


def test_every_query_file_and_definition_reaches_the_model(kit, model) -> None:
    queries = kit.read_queries()
    fact = model.tables[kit.FACT]
    for q in queries:
        if q.kind == "table":
            assert model.tables[q.name].partitions[q.name] == q.code
        else:
            assert model.expressions[q.name] == q.code
    for d in kit.read_definitions():
        target = fact.measures if d.kind == "MEASURE" else fact.columns
        assert target[d.name].expression == d.expression, d.name
        if d.format:
            assert target[d.name].properties["formatString"] == d.format


# --- Microsoft's schemas ------------------------------------------------------------------


def schema_validator(schemas: Path, schema_url: str):
    """A validator for a `$schema` URL, every https reference resolved to the local copies."""

    def retrieve(uri: str) -> Resource:
        if not uri.startswith(SCHEMA_PREFIX):
            raise NoSuchResource(ref=uri)
        path = schemas / uri[len(SCHEMA_PREFIX) :].split("#")[0]
        if not path.exists() and path.name == "schema.embedded.json":
            # Some embedded schemas' $id says schema.embedded.json; the file is schema-embedded.json.
            path = path.with_name("schema-embedded.json")
        if not path.exists():
            raise NoSuchResource(ref=uri)
        return Resource.from_contents(
            json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT7
        )

    registry = Registry(retrieve=retrieve)
    schema = registry.get_or_retrieve(schema_url).value.contents
    cls = validators.validator_for(schema)
    return cls(schema, registry=registry)


def schema_errors(schemas: Path, document: dict) -> list[str]:
    url = document.get("$schema")
    if not isinstance(url, str) or not url.startswith(SCHEMA_PREFIX):
        return [f"$schema {url!r} is not one of Microsoft's published schemas"]
    try:
        validator = schema_validator(schemas, url)
    except NoSuchResource:
        return [f"$schema {url} has no local copy under ../shared/schemas/powerbi"]
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def schema_files(json_files) -> dict[Path, dict]:
    """Every JSON file but the theme: a report theme is not a PBIR definition file and has no
    published schema in ../shared (Power BI's own base themes name none either)."""
    return {p: d for p, d in json_files.items() if "StaticResources" not in p.parts}


def test_every_json_file_names_its_schema_and_validates(schemas, json_files) -> None:
    files = schema_files(json_files)
    kinds = {p.name if p.name != "visual.json" else "visual.json" for p in files}
    assert {
        "SmartGrid.pbip",
        "definition.pbism",
        "definition.pbir",
        "version.json",
        "report.json",
        "pages.json",
        "page.json",
        "visual.json",
    } <= kinds
    problems = {
        str(p.relative_to(KIT)): errors
        for p, doc in files.items()
        if (errors := schema_errors(schemas, doc))
    }
    assert problems == {}


def test_one_version_of_each_schema_and_the_newest_published(schemas, json_files) -> None:
    by_kind: dict[str, set[str]] = {}
    for doc in schema_files(json_files).values():
        *kind, version, _ = doc["$schema"][len(SCHEMA_PREFIX) :].split("/")
        by_kind.setdefault("/".join(kind), set()).add(version)
    for kind, versions in by_kind.items():
        assert len(versions) == 1, f"{kind}: several versions {sorted(versions)}"
        published = [p.name for p in (schemas / kind).iterdir() if p.is_dir()]
        newest = max(published, key=lambda v: tuple(int(n) for n in v.split(".")))
        assert versions == {newest}, f"{kind}: {versions} is not the newest published {newest}"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(positon=d.pop("position")), "'positon' was unexpected"),
        (lambda d: d["visual"].update(visualTyp=d["visual"].pop("visualType")), "visualTyp"),
        (lambda d: d["position"].update(x="left"), "'left' is not of type 'number'"),
    ],
    ids=["misspelt property", "misspelt nested property", "wrong type"],
)
def test_schema_check_rejects_a_broken_visual(schemas, visuals, mutate, expected) -> None:
    """Negative control: the same validation fails on a visual with one mistake."""
    document = copy.deepcopy(visuals["globalWattsTrend"])
    assert schema_errors(schemas, document) == []
    mutate(document)
    errors = schema_errors(schemas, document)
    assert errors and any(expected in e for e in errors), errors


def test_schema_check_rejects_an_unpublished_schema_version(schemas, visuals) -> None:
    document = copy.deepcopy(visuals["globalWattsTrend"])
    document["$schema"] = document["$schema"].replace("/2.9.0/", "/9.9.0/")
    assert schema_errors(schemas, document) == [
        f"$schema {document['$schema']} has no local copy under ../shared/schemas/powerbi"
    ]


# --- The project's own links ------------------------------------------------------------------


def test_pbip_opens_the_report_and_the_report_its_model(kit, json_files) -> None:
    pbip = json_files[KIT / "SmartGrid.pbip"]
    [artifact] = pbip["artifacts"]
    report_dir = KIT / artifact["report"]["path"]
    pbir = json_files[report_dir / "definition.pbir"]
    model_dir = (report_dir / pbir["datasetReference"]["byPath"]["path"]).resolve()
    assert (model_dir / "definition.pbism").is_file()
    assert (model_dir / "definition" / "model.tmdl").is_file()
    pages = json_files[report_dir / "definition" / "pages" / "pages.json"]
    for page in pages["pageOrder"]:
        doc = json_files[report_dir / "definition" / "pages" / page / "page.json"]
        assert doc["name"] == page
    assert pages["activePageName"] in pages["pageOrder"]


def test_base_theme_is_shipped_where_the_report_points(kit, json_files) -> None:
    report_dir = KIT / kit.REPORT_DIR
    report = json_files[report_dir / "definition" / "report.json"]
    base = report["themeCollection"]["baseTheme"]
    [package] = [p for p in report["resourcePackages"] if p["type"] == "SharedResources"]
    [item] = [i for i in package["items"] if i["type"] == "BaseTheme"]
    assert item["name"] == base["name"]
    theme = json_files[report_dir / "StaticResources" / "SharedResources" / item["path"]]
    assert theme["name"] == base["name"]
    assert all(c.startswith("#") and len(c) == 7 for c in theme["dataColors"])


def test_visual_names_match_their_folders_and_are_unique(visuals) -> None:
    for folder, doc in visuals.items():
        assert doc["name"] == folder
    boxes = [v["position"] for v in visuals.values()]
    assert len({(b["x"], b["y"]) for b in boxes}) == len(boxes)


def test_visuals_stay_on_the_page(kit, visuals) -> None:
    for name, doc in visuals.items():
        p = doc["position"]
        assert p["x"] >= 0 and p["x"] + p["width"] <= kit.PAGE_WIDTH, name
        assert p["y"] >= 0 and p["y"] + p["height"] <= kit.PAGE_HEIGHT, name


def test_visual_types_and_roles_are_ones_power_bi_knows(visuals) -> None:
    for name, doc in visuals.items():
        visual_type = doc["visual"]["visualType"]
        assert visual_type in KNOWN_VISUAL_TYPES, f"{name}: unknown visualType {visual_type}"
        used = set(doc["visual"]["query"]["queryState"])
        assert used <= VISUAL_ROLES[visual_type], (
            f"{name}: roles {used - VISUAL_ROLES[visual_type]}"
        )


def test_report_has_the_dashboards_visuals(visuals) -> None:
    by_type: dict[str, list[str]] = {}
    for name, doc in visuals.items():
        by_type.setdefault(doc["visual"]["visualType"], []).append(name)
    assert by_type["lineChart"] == ["globalWattsTrend"]
    assert by_type["columnChart"] == ["meterEnergyByDaypart"]
    assert by_type["clusteredBarChart"] == ["dailyKwhPerMeter"]
    assert by_type["gauge"] == ["targetDailyKwh"]
    assert len(by_type["card"]) == 7  # six KPI cards and the selected-meter subtitle
    slicers = {
        field_ref(p["field"])
        for name in by_type["slicer"]
        for p in visuals[name]["visual"]["query"]["queryState"]["Values"]["projections"]
    }
    assert slicers == {
        ("Column", "MeterReadings", "meter_id"),
        ("Column", "MeterReadings", "local_date"),
    }
    gauge = visuals["targetDailyKwh"]["visual"]["query"]["queryState"]
    assert {role: field_ref(s["projections"][0]["field"])[2] for role, s in gauge.items()} == {
        "Y": "Average Daily kWh",
        "MinValue": "Min Daily kWh",
        "MaxValue": "Max Daily kWh",
        "TargetValue": "Rolling Target kWh",
        "Tooltips": "Daily kWh vs Target %",
    }


# --- Every field the report names exists in the model ----------------------------------------


def field_ref(field: dict) -> tuple[str, str, str]:
    [(kind, ref)] = field.items()
    return kind, ref["Expression"]["SourceRef"]["Entity"], ref["Property"]


def referenced_fields(document: object) -> list[tuple[str, str, str]]:
    """Every Column/Measure a visual names: in its roles, sorts and filters (sub-queries too),
    with query aliases (`SourceRef.Source`) resolved through their `From` entities."""
    aliases: dict[str, str] = {}

    def collect_aliases(node: object) -> None:
        if isinstance(node, dict):
            for entry in node.get("From", []) if isinstance(node.get("From"), list) else []:
                if "Entity" in entry:
                    if aliases.get(entry["Name"], entry["Entity"]) != entry["Entity"]:
                        raise AssertionError(f"alias {entry['Name']} names two tables")
                    aliases[entry["Name"]] = entry["Entity"]
            for value in node.values():
                collect_aliases(value)
        elif isinstance(node, list):
            for value in node:
                collect_aliases(value)

    found: list[tuple[str, str, str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for kind in ("Column", "Measure"):
                ref = node.get(kind)
                if isinstance(ref, dict) and "Property" in ref:
                    source = ref["Expression"]["SourceRef"]
                    table = source.get("Entity") or aliases.get(source.get("Source"))
                    found.append((kind, table, ref["Property"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    collect_aliases(document)
    walk(document)
    return found


def missing_fields(model, document: object) -> list[str]:
    missing = []
    for kind, table, name in referenced_fields(document):
        t = model.tables.get(table)
        names = (t.columns if kind == "Column" else t.measures) if t else {}
        if name not in names:
            missing.append(f"{kind} {table}[{name}]")
    return missing


def test_every_field_a_visual_names_is_in_the_model(model, visuals) -> None:
    seen = set()
    for name, doc in visuals.items():
        assert missing_fields(model, doc) == [], name
        seen |= set(referenced_fields(doc))
    # Through the sub-query alias too: the Top N filters rank by measures.
    assert ("Measure", "MeterReadings", "Average Daily kWh") in seen
    assert ("Column", "Dayparts", "time_of_day") in seen


def test_field_check_catches_an_unknown_measure_and_a_measure_used_as_a_column(
    model, visuals
) -> None:
    document = copy.deepcopy(visuals["dailyKwhPerMeter"])
    document["filterConfig"]["filters"][0]["filter"]["From"][0]["Expression"]["Subquery"]["Query"][
        "OrderBy"
    ][0]["Expression"]["Measure"]["Property"] = "Average Dayly kWh"
    document["visual"]["query"]["queryState"]["Category"]["projections"][0]["field"] = {
        "Column": {
            "Expression": {"SourceRef": {"Entity": "MeterReadings"}},
            "Property": "Reading Count",
        }
    }
    assert missing_fields(model, document) == [
        "Column MeterReadings[Reading Count]",
        "Measure MeterReadings[Average Dayly kWh]",
    ]
