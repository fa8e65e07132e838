"""Read the Databricks Asset Bundle the way the CLI does, minus the workspace.

``load_bundle()`` parses databricks.yml and the files its ``include`` globs match.
``bundle.effective(target)`` is the configuration the CLI deploys for one target: the files
merged, the target's overrides applied (variables, workspace, permissions, mode, run_as,
resources) and ``targets`` removed. ``bundle.resolve(value, target, user)`` substitutes
``${var.x}`` (the target's value, else the default, else a sample for the variables without
default), ``${bundle.name|target}`` and ``${workspace.current_user.short_name|userName}``, as
often as it takes (a variable's value may reference another); a reference that is the whole
string keeps its value's type, as in the CLI.
"""

from __future__ import annotations

import copy
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
    "lake_location": "abfss://lake@examplestore.dfs.core.windows.net/smartgrid",
    "warehouse_id": "0123456789abcdef",
}


@dataclass(frozen=True)
class User:
    """``workspace.current_user`` of whoever runs the CLI."""

    user_name: str

    @property
    def short_name(self) -> str:
        # The CLI's short name: the part before @, anything but letters and digits as _.
        return re.sub(r"[^A-Za-z0-9]", "_", self.user_name.split("@")[0]).lower()


ALICE = User("alice.smith@example.com")
BOB = User("bob@example.com")
DEPLOYER = User("deployer@example.com")


def _merge(base: Any, override: Any) -> Any:
    """The CLI's merge of a target over the root: mappings deep-merged, anything else replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return copy.deepcopy(override)


@dataclass(frozen=True)
class Bundle:
    root: dict[str, Any]
    resource_files: dict[Path, dict[str, Any]]

    @property
    def variables(self) -> dict[str, dict[str, Any]]:
        return self.root.get("variables") or {}

    @property
    def targets(self) -> dict[str, dict[str, Any]]:
        return self.root["targets"]

    @property
    def jobs(self) -> dict[str, tuple[Path, dict[str, Any]]]:
        jobs = {}
        for path, content in self.resource_files.items():
            for name, job in (content.get("resources", {}).get("jobs") or {}).items():
                jobs[name] = (path, job)
        return jobs

    def merged(self) -> dict[str, Any]:
        """databricks.yml with its include files merged in (targets kept), as the CLI loads it."""
        config = {k: copy.deepcopy(v) for k, v in self.root.items() if k != "include"}
        for content in self.resource_files.values():
            config = _merge(config, content)
        return config

    def effective(self, target: str) -> dict[str, Any]:
        """The configuration of one target: its overrides applied, ``targets`` gone."""
        config = self.merged()
        overrides = copy.deepcopy(config.pop("targets")[target] or {})
        target_variables = overrides.pop("variables", {}) or {}
        # default and mode select and shape the deployment; the CLI keeps them off the tree.
        overrides.pop("default", None)
        overrides.pop("mode", None)
        config = _merge(config, overrides)
        for name, value in target_variables.items():
            spec = config["variables"][name]
            spec["default"] = value["default"] if isinstance(value, dict) else value
        return config

    def values(
        self, target: str, user: User = ALICE, overrides: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Every variable's value for ``target``, fully resolved."""
        spec = self.effective(target)["variables"]
        raw = {name: (s or {}).get("default") for name, s in spec.items()}
        for name, value in raw.items():
            if value is None:
                raw[name] = SAMPLE_VALUES[name]
        raw.update(overrides or {})
        context = {"bundle.name": self.root["bundle"]["name"], "bundle.target": target}
        context["workspace.current_user.short_name"] = user.short_name
        context["workspace.current_user.userName"] = user.user_name
        resolved: dict[str, Any] = {}

        def lookup(reference: str, seen: tuple[str, ...]) -> Any:
            if reference.startswith("var."):
                name = reference[4:]
                if name in seen:
                    raise ValueError(f"variable cycle: {' -> '.join((*seen, name))}")
                if name not in resolved:
                    resolved[name] = substitute(raw[name], (*seen, name))
                return resolved[name]
            return context[reference]

        def substitute(value: Any, seen: tuple[str, ...]) -> Any:
            if isinstance(value, str):
                whole = ANY_REFERENCE.fullmatch(value)
                if whole:
                    return lookup(whole.group(1), seen)
                return ANY_REFERENCE.sub(lambda m: str(lookup(m.group(1), seen)), value)
            return value

        for name in raw:
            lookup(f"var.{name}", ())
        return resolved

    def resolve(
        self,
        value: Any,
        target: str = "dev",
        user: User = ALICE,
        overrides: dict[str, Any] | None = None,
    ) -> Any:
        """``value`` (any part of the configuration) with every reference substituted."""
        values = self.values(target, user, overrides)
        context = {
            "bundle.name": self.root["bundle"]["name"],
            "bundle.target": target,
            "workspace.current_user.short_name": user.short_name,
            "workspace.current_user.userName": user.user_name,
            **{f"var.{name}": v for name, v in values.items()},
        }

        def substitute(item: Any) -> Any:
            if isinstance(item, str):
                whole = ANY_REFERENCE.fullmatch(item)
                if whole:
                    return context[whole.group(1)]
                return ANY_REFERENCE.sub(lambda m: str(context[m.group(1)]), item)
            if isinstance(item, list):
                return [substitute(v) for v in item]
            if isinstance(item, dict):
                return {k: substitute(v) for k, v in item.items()}
            return item

        return substitute(value)

    def deployed(self, target: str, user: User = ALICE) -> dict[str, Any]:
        """The target's configuration with every reference resolved, as deployed by ``user``
        (what ``databricks bundle validate -t <target> -o json`` shows, variables as defaults)."""
        config = self.effective(target)
        variables = config.pop("variables")
        resolved = self.resolve(config, target, user)
        values = self.values(target, user)
        resolved["variables"] = {
            name: {**(spec or {}), "default": values[name]} for name, spec in variables.items()
        }
        return resolved


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
