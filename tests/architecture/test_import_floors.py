"""The floors of the package tree hold (pyproject.toml, ``[tool.importlinter]``), and they can fail.

``lint-imports`` is run on the tree as it is, and on a copy with one deliberate upward import
(the negative control: a contract that cannot fail proves nothing). The import graph is also
checked for cycles between any two modules of the project, whatever their packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _packages() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["root_packages"]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    # The copy is found before the editable install: PYTHONPATH precedes site-packages' finders.
    env = {**os.environ, "PYTHONPATH": str(cwd), "NO_COLOR": "1"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_the_tree_keeps_every_contract() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "upward", "contract"),
    [
        ("smartgrid/lake.py", "import pipeline.cli", "floors"),
        ("producer/fleet.py", "import ingest.config", "the producer never imports the ingest"),
        ("dashboard/model.py", "import transform.runner", "floors"),
    ],
)
def test_an_upward_or_sideways_import_breaks_a_contract(
    tmp_path: Path, module: str, upward: str, contract: str
) -> None:
    """The negative control: one added import in a copy of the tree, named by lint-imports."""
    for package in _packages():
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(
        target.read_text(encoding="utf-8") + f"\n{upward}  # noqa\n", encoding="utf-8"
    )

    done = _lint_imports(tmp_path)

    assert done.returncode != 0
    assert f"{contract}" in done.stdout and "BROKEN" in done.stdout
    importer = module.removesuffix(".py").replace("/", ".")
    imported = upward.split()[-1]
    assert f"{importer} -> {imported}" in done.stdout, done.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*_packages(), cache_dir=None)


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = _graph()
    assert len(graph.modules) > 50  # the whole project, not an empty graph
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    """The negative control of the check above: one added edge back makes a cycle it reports."""
    graph = _graph()
    assert "smartgrid.lake" in graph.find_modules_directly_imported_by("smartgrid.spark")
    graph.add_import(importer="smartgrid.lake", imported="smartgrid.spark")
    assert ["smartgrid.lake", "smartgrid.spark"] in _cycles(graph)
