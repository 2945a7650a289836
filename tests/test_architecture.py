"""The package's layering, read from its source (docs/architecture.md says why).

Lower layers never import higher ones, siblings of one layer never import each other, no
private name crosses a module boundary, and the modules import no cycle. Read with ``ast``,
so a lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "src" / "analysis"

# lowest first; a package may import from its own package and from any earlier layer
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"__init__"}),  # the package's version
    frozenset({"core"}),
    frozenset({"data", "stats"}),
    frozenset({"synth", "imports", "engine"}),
    frozenset({"outcomes"}),
    frozenset({"raters", "training", "rollout"}),
    frozenset({"report"}),
    frozenset({"pipeline"}),
    frozenset({"cli"}),
    frozenset({"__main__"}),
)
LAYER = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def module_name(path: Path) -> str:
    base = PACKAGE.parent if path.is_relative_to(PACKAGE) else ROOT
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def top_package(module: str) -> str:
    """'analysis.stats.mixed.exact' -> 'stats'; 'analysis.cli' -> 'cli'; 'analysis' -> '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names) for every import of the package in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module, found = module_name(path), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names if a.name.split(".")[0] == "analysis"]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(module, path.name == "__init__.py", node)
            if target.split(".")[0] == "analysis":
                found.append((node.lineno, target, [a.name for a in node.names]))
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))
MODULES = {module_name(p) for p in SOURCES}


def imported_modules(target: str, names: list[str]) -> list[str]:
    """``from analysis.x import y`` imports module analysis.x.y when y is a module, else analysis.x."""
    subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
    return subs if subs and len(subs) == len(names) else [target, *subs]


def test_every_package_has_a_layer():
    packages = {top_package(module_name(p)) for p in SOURCES}
    assert packages <= set(LAYER), f"give these a layer in LAYERS: {packages - set(LAYER)}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_from_a_higher_layer_or_a_sibling(path):
    here = top_package(module_name(path))
    bad = []
    for line, target, names in imports(path):
        for module in imported_modules(target, names):
            there = top_package(module)
            if there != here and LAYER.get(there, -1) >= LAYER[here]:
                bad.append(f"line {line}: {here} (layer {LAYER[here]}) imports {module} "
                           f"(layer {LAYER.get(there)})")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", SOURCES + sorted((ROOT / "tests").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_imported_across_modules(path):
    bad = [f"line {line}: from {target} import {n}" for line, target, names in imports(path)
           for n in names if n.startswith("_") and not n.startswith("__")]
    assert not bad, "\n".join(bad)


def test_the_modules_import_no_cycle():
    graph = {module_name(p): set() for p in SOURCES}
    for path in SOURCES:
        for _, target, names in imports(path):
            for dep in imported_modules(target, names):
                if dep in graph and dep != module_name(path):
                    graph[module_name(path)].add(dep)
    # a package's __init__ re-exporting its modules is not a cycle of logic: leave those edges out
    for name in graph:
        graph[name] = {d for d in graph[name] if not (d.startswith(name + ".") and name in MODULES
                                                       and (PACKAGE.parent / name.replace(".", "/")).is_dir())}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_matplotlib_backend_is_chosen_in_one_place():
    users = [p.relative_to(PACKAGE) for p in SOURCES if "matplotlib.use(" in p.read_text(encoding="utf-8")]
    assert [str(p) for p in users] == ["core/plotting.py"]


@pytest.mark.parametrize("path", SOURCES + sorted((ROOT / "tests").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_of_another_module_is_used(path):
    """Not imported, and not reached as ``module._name`` either."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analysis"):
            modules |= {a.asname or a.name for a in node.names
                        if f"{node.module}.{a.name}" in MODULES or f"{node.module}.{a.name}" == "analysis"}
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name.startswith("analysis")}
    bad = [f"line {n.lineno}: {n.value.id}.{n.attr}" for n in ast.walk(tree)
           if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in modules
           and n.attr.startswith("_") and not n.attr.startswith("__")]
    assert not bad, "\n".join(bad)
