"""Fixtures of the Power BI tests: the generator, the generated project, Microsoft's schemas."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tmdl import Model, read_model

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "powerbi"
# Microsoft's published JSON Schemas, beside the repository (see ../shared/schemas/README.md).
SCHEMAS = ROOT.parent / "shared" / "schemas" / "powerbi"


@pytest.fixture(scope="session")
def kit():
    """powerbi/build_pbip.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("build_pbip", KIT / "build_pbip.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_pbip"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def model(kit) -> Model:
    """The committed TMDL, as Power BI Desktop will read it."""
    return read_model(KIT / kit.MODEL_DIR / "definition")


@pytest.fixture(scope="session")
def json_files() -> dict[Path, object]:
    """Every JSON file of the project: .pbip, .pbism, .pbir and the report definition."""
    paths = [KIT / "SmartGrid.pbip"]
    paths += [p for p in KIT.rglob("*") if p.suffix in {".json", ".pbism", ".pbir"}]
    return {p: json.loads(p.read_text(encoding="utf-8")) for p in sorted(paths)}


@pytest.fixture(scope="session")
def visuals(kit) -> dict[str, dict]:
    folder = KIT / kit.REPORT_DIR / "definition" / "pages" / kit.PAGE / "visuals"
    return {
        p.parent.name: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(folder.glob("*/visual.json"))
    }


@pytest.fixture(scope="session")
def schemas() -> Path:
    if not (SCHEMAS / "fabric").is_dir():
        pytest.skip("../shared/schemas/powerbi is absent (Microsoft's schemas; CI has them)")
    return SCHEMAS
