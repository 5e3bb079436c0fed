"""The layer map of docs/architecture.md, enforced: every module's imports (read from its syntax,
function-level imports included) point down or sideways within its part, and no modules import
each other in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("stance", "training", "serving", "stance_cli")

# Each part of the code base and the modules in it: a name ending in "." covers a package and
# everything under it; other names are single modules. A new module gets a line here (and in
# docs/architecture.md) before it can be imported.
PARTS: dict[str, tuple[str, ...]] = {
    "core base": (
        "stance.errors", "stance.atomic", "stance.files", "stance.labels", "stance.lexicon",
        "stance.options", "stance.settings", "stance.config", "stance.metrics", "stance.pairs",
        "stance.spreadsheet",
    ),
    "core model": ("stance.model", "stance.model."),
    "core data": ("stance.data", "stance.data."),
    "core quotes": ("stance.quotes", "stance.quotes."),
    "core top": ("stance", "stance.analysis", "stance.bulk", "stance.corpus", "stance.corpus."),
    "training": ("training", "training."),
    "serving": ("serving", "serving."),
    "cli": ("stance_cli", "stance_cli."),
}  # fmt: skip

_CORE = {"core base", "core model", "core data", "core quotes", "core top"}
# The parts each part may import besides itself.
MAY_IMPORT: dict[str, set[str]] = {
    "core base": set(),
    "core model": {"core base"},
    "core data": {"core base", "core model"},
    "core quotes": {"core base", "core model"},  # the attribution tagger is a model
    "core top": {"core base", "core model", "core data", "core quotes"},
    "training": _CORE,
    "serving": _CORE,
    "cli": _CORE | {"training", "serving"},
}


def module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def part_of(module: str) -> str | None:
    """The part whose most specific entry covers ``module``."""
    best, length = None, -1
    for part, entries in PARTS.items():
        for entry in entries:
            covers = module.startswith(entry) if entry.endswith(".") else module == entry
            if covers and len(entry) > length:
                best, length = part, len(entry)
    return best


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``module`` imports, at any depth of its syntax tree.

    ``from stance import __version__`` reads the package's version only; it is not an edge.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "stance" and [a.name for a in node.names] == ["__version__"]:
                continue
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


MODULES = module_files()
GRAPH = {m: imports_of(m, p, set(MODULES)) for m, p in MODULES.items()}


def test_every_module_has_a_place_on_the_map():
    unplaced = sorted(m for m in MODULES if part_of(m) is None)
    assert not unplaced, f"add these to PARTS here and to docs/architecture.md: {unplaced}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    part = part_of(module)
    if part is None:
        pytest.skip("not on the map (see test_every_module_has_a_place_on_the_map)")
    wrong = sorted(
        f"{target} ({part_of(target)})"
        for target in GRAPH[module]
        if part_of(target) not in {part, *MAY_IMPORT[part]}
    )
    assert not wrong, f"{module} ({part}) may import {sorted(MAY_IMPORT[part])} only, but imports {wrong}"


def test_no_import_cycles():
    cycles = _cycles(GRAPH)
    assert not cycles, "modules that import each other in a circle: " + "; ".join(
        " -> ".join(c) for c in cycles
    )


def test_the_checker_sees_a_cycle_and_an_upward_import():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert "core base" not in MAY_IMPORT["core base"] and part_of("stance.quotes.marks") == "core quotes"
    assert part_of("stance.corpus.run") == "core top" and part_of("stance") == "core top"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)
