"""The package's import structure, computed from the `import` statements of its modules (issue 20).

Every import counts, at module level or inside a function (a lazy import is still a dependency),
except those under `if TYPE_CHECKING:`. Modules are nodes (`kunnskapsgrunnlag.fetch` is the
package's `__init__.py`, `kunnskapsgrunnlag.fetch.ssb` a module of it); an edge runs from the
importing module to the imported one. The graph must have no cycle, and its depth (the number of
modules on the longest chain of imports, the "floors") must not grow.
"""

from __future__ import annotations

import ast
from functools import cache
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "kunnskapsgrunnlag"
NAME = PKG.name

# Issue 20: at most 7 floors, reached. The longest chains today are 7 long, e.g.
# __main__ -> cli -> pipeline -> runner -> diff -> outputs -> atomic and
# __main__ -> cli -> fetch.online_check -> fetch -> classification -> config -> config_schema.
# A change that needs an 8th floor must first move something down (see CONTRIBUTING.md).
MAX_LAYERS = 7
# The in-notebook API (`Context`, notebook.py) is a leaf of the package: one of its lowest floors,
# importing only configuration, the raw store and formatting (and the atomic writes it saves with).
CONTEXT_MODULE = f"{NAME}.notebook"
CONTEXT_MAX_LAYER = 4
CONTEXT_IMPORTS = {f"{NAME}.{m}" for m in ("config", "store", "status", "shared", "fmt", "plots", "atomic")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
        return
    if isinstance(node, ast.If) and _is_type_checking(node):
        return
    for child in ast.iter_child_nodes(node):
        yield from _imports_in(child)


def import_graph() -> dict[str, set[str]]:
    """{module: the package's modules it imports}."""
    modules = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        base = mod.split(".") if is_pkg else mod.split(".")[:-1]  # the package relative imports start from
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    anchor = base[: len(base) - (node.level - 1)]
                    prefix = ".".join(anchor + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                # `from . import calc` / `from .fetch import mirror` name modules; otherwise the module itself
                targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in modules else prefix for a in node.names]
            for t in targets:
                while t and t not in modules:  # `import kunnskapsgrunnlag.fetch.ssb.x` -> the module that exists
                    t = t.rpartition(".")[0]
                if t and t.split(".")[0] == NAME and t != mod:
                    graph[mod].add(t)
    return graph


def layers(graph: dict[str, set[str]]) -> dict[str, int]:
    """{module: its floor}: 1 for a module importing none of the package, else 1 + its highest import."""

    @cache
    def floor(m: str) -> int:
        return 1 + max((floor(d) for d in graph[m]), default=0)

    return {m: floor(m) for m in graph}


def longest_chain(graph: dict[str, set[str]]) -> list[str]:
    @cache
    def chain(m: str) -> tuple[str, ...]:
        below = [chain(d) for d in sorted(graph[m])]
        return (m, *max(below, key=len, default=()))

    return list(max((chain(m) for m in sorted(graph)), key=len))


def test_the_graph_is_computed_from_real_imports():
    g = import_graph()
    assert f"{NAME}.cli" in g and f"{NAME}.calc" in g and len(g) >= 20
    assert f"{NAME}.pipeline" in g[f"{NAME}.cli"]  # cli imports the pipeline
    assert all(d.startswith(NAME) for ds in g.values() for d in ds)


def test_no_import_cycle():
    g = import_graph()
    try:
        list(TopologicalSorter(g).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_the_import_graph_has_at_most_seven_floors():
    chain = longest_chain(import_graph())
    assert len(chain) <= MAX_LAYERS, f"{len(chain)} layers (limit {MAX_LAYERS}): {' -> '.join(chain)}"


def test_context_is_a_leaf_in_the_lowest_layers():
    g = import_graph()
    floor = layers(g)
    assert floor[CONTEXT_MODULE] <= CONTEXT_MAX_LAYER, (
        f"{CONTEXT_MODULE} is on floor {floor[CONTEXT_MODULE]} (limit {CONTEXT_MAX_LAYER}): "
        f"imports {sorted(g[CONTEXT_MODULE])}"
    )
    assert g[CONTEXT_MODULE] <= CONTEXT_IMPORTS, sorted(g[CONTEXT_MODULE] - CONTEXT_IMPORTS)
    for mod in ("runner", "pipeline", "cli", "fetch"):  # the build machinery never loads the in-notebook API
        below, todo = set(), [f"{NAME}.{mod}"]
        while todo:
            for d in g[todo.pop()] - below:
                below.add(d)
                todo.append(d)
        assert CONTEXT_MODULE not in below, f"{NAME}.{mod} imports {CONTEXT_MODULE}"


def test_layers_on_a_small_graph():
    g = {"a": {"b", "c"}, "b": {"c"}, "c": {"d"}, "d": set(), "e": {"d"}}
    assert layers(g) == {"a": 4, "b": 3, "c": 2, "d": 1, "e": 2}


def test_longest_chain_on_a_small_graph():
    g = {"a": {"b", "c"}, "b": {"c"}, "c": {"d"}, "d": set(), "e": {"d"}}
    assert longest_chain(g) == ["a", "b", "c", "d"]


def test_a_dataset_module_imports_only_the_shared_leaves():
    """`sources/<dataset>.py` builds on `sources._base`/`sources._ssb` (and leaves such as calc), never
    on another dataset's module: what two datasets share is one function of those leaves."""
    g = import_graph()
    floor = layers(g)
    shared = {f"{NAME}.sources._base", f"{NAME}.sources._ssb"}
    assert all(floor[m] == 1 for m in shared), {m: sorted(g[m]) for m in shared}
    datasets = [m for m in g if m.startswith(f"{NAME}.sources.") and m not in shared]
    assert len(datasets) >= 20
    for m in datasets:
        other = sorted(d for d in g[m] if d.startswith(f"{NAME}.sources") and d not in shared)
        assert not other, f"{m} imports another dataset module: {other}"
        assert all(floor[d] == 1 for d in g[m]), f"{m} imports {sorted(d for d in g[m] if floor[d] > 1)}"


def test_the_data_layer_floors():
    """The fetch sits on floor 4: query resolution, plausibility and the dataset registry below it
    are given the regions (fylker, kommuner) instead of reading the classification themselves."""
    floor = layers(import_graph())
    limits = {"fetch": 4, "fetch.query": 3, "plausibility": 3, "sources": 3, "schemas": 4, "tables": 4}
    high = {m: floor[f"{NAME}.{m}"] for m, lim in limits.items() if floor[f"{NAME}.{m}"] > lim}
    assert not high, f"floors above their limit {limits}: {high}"
