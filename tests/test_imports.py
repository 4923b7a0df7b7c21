"""The import layering (docs/architecture.md): every module imports on its own in
a fresh interpreter, the backend (pipelines/) never loads the dashboard, the
presentation package never loads Streamlit, and the project's modules import each
other without a cycle, module by module and package by package."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipelines", "dashboards")
PRESENTATION = "pipelines.presentation"
# what each module may not load, by the prefix of its name
FORBIDDEN = {"pipelines": ("dashboards",), PRESENTATION: ("dashboards", "streamlit")}
# what runs in each interpreter: import the module, list the forbidden packages loaded
PROBE = (
    "import importlib, json, sys; importlib.import_module(sys.argv[1]); "
    "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[2:]))))"
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    """Every module of the project's packages: dotted name -> file. The dashboard's
    page scripts are included: they render only when run as __main__."""
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def forbidden_for(name: str) -> tuple[str, ...]:
    found: tuple[str, ...] = ()
    for prefix, names in FORBIDDEN.items():
        if name == prefix or name.startswith(prefix + "."):
            found = names  # the longest prefix wins (FORBIDDEN is in that order)
    return found


def _probe(name: str) -> tuple[str, int, str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, name, *forbidden_for(name)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    loaded = json.loads(done.stdout) if done.returncode == 0 else []
    return name, done.returncode, done.stderr, loaded


def imported_by(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `path` (module `name`) imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from a import b` imports the module a.b when there is one, else a
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imported_by(name, path, set(modules)) for name, path in modules.items()}


def component(name: str) -> str:
    """The package a module belongs to for the package graph: pipelines.models.runner
    -> pipelines.models, pipelines.serving -> pipelines.serving."""
    return ".".join(name.split(".")[:2])


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for name, targets in graph.items():
        mine = component(name)
        packages.setdefault(mine, set()).update(
            component(t) for t in targets if component(t) != mine
        )
    return packages


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        return list(exc.args[1])
    return None


def test_every_module_imports_alone_and_loads_nothing_it_must_not():
    names = sorted(project_modules())
    assert "pipelines.presentation.charts" in names and "dashboards.views.review" in names
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(_probe, names))
    failed = {name: err.strip().splitlines()[-1] for name, rc, err, _ in results if rc}
    assert not failed, f"modules that do not import on their own: {failed}"
    loaded = {name: found for name, _, _, found in results if found}
    assert not loaded, f"modules that load what their layer must not: {loaded}"


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    # the graph is real: known edges are in it
    assert "pipelines.presentation.charts" in graph["pipelines.report.content"]
    assert "pipelines.serving" in graph["pipelines.models.runner"]
    assert find_cycle(graph) is None, f"modules import each other: {find_cycle(graph)}"


def test_the_package_graph_has_no_cycle():
    packages = package_graph(import_graph())
    assert "pipelines.serving" in packages["pipelines.models"]
    cycle = find_cycle(packages)
    assert cycle is None, f"packages import each other: {cycle}"


def test_no_backend_module_names_the_dashboard():
    graph = import_graph()
    wrong = {
        name: sorted(t for t in targets if t.startswith("dashboards"))
        for name, targets in graph.items()
        if name.startswith("pipelines")
    }
    assert not {n: t for n, t in wrong.items() if t}


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, {"a", "b", "c"}),
    ],
)
def test_find_cycle_on_graphs_worked_by_hand(graph, cycle):
    found = find_cycle(graph)
    assert (found if found is None else set(found)) == cycle
