"""Read the Databricks Asset Bundle the way the CLI does, minus the workspace.

``load_bundle()`` parses databricks.yml and the files its ``include`` globs match;
``resolve(value, target)`` substitutes ``${var.name}`` with the target's value (the target's
override, else the default, else a sample for the variables that have no default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
VAR_REFERENCE = re.compile(r"\$\{var\.([A-Za-z_][A-Za-z0-9_-]*)\}")
ANY_REFERENCE = re.compile(r"\$\{([^}]+)\}")

# What a user supplies for the variables that have no default (BUNDLE_VAR_<name>).
SAMPLE_VALUES = {
    "lake_root": "abfss://lake@examplestore.dfs.core.windows.net/smartgrid",
    "warehouse_id": "0123456789abcdef",
}


@dataclass(frozen=True)
class Bundle:
    root: dict[str, Any]
    resource_files: dict[Path, dict[str, Any]]

    @property
    def variables(self) -> dict[str, dict[str, Any]]:
        return self.root.get("variables") or {}

    @property
    def jobs(self) -> dict[str, tuple[Path, dict[str, Any]]]:
        jobs = {}
        for path, content in self.resource_files.items():
            for name, job in (content.get("resources", {}).get("jobs") or {}).items():
                jobs[name] = (path, job)
        return jobs

    def values(self, target: str) -> dict[str, Any]:
        values = {name: spec.get("default") for name, spec in self.variables.items()}
        values.update((self.root["targets"][target] or {}).get("variables") or {})
        for name, value in values.items():
            if value is None:
                values[name] = SAMPLE_VALUES[name]
        return values

    def resolve(self, value: Any, target: str = "dev") -> Any:
        values = self.values(target)
        if isinstance(value, str):
            return VAR_REFERENCE.sub(lambda m: str(values[m.group(1)]), value)
        if isinstance(value, list):
            return [self.resolve(v, target) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v, target) for k, v in value.items()}
        return value


def load_bundle(root: Path = ROOT) -> Bundle:
    config = yaml.safe_load((root / "databricks.yml").read_text())
    files: dict[Path, dict[str, Any]] = {}
    for pattern in config.get("include", []):
        for path in sorted(root.glob(pattern)):
            files[path] = yaml.safe_load(path.read_text())
    return Bundle(config, files)


def strings(value: Any) -> list[str]:
    """Every string anywhere in a parsed YAML document (keys and values)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    return []
