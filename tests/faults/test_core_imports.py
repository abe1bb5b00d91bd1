"""The package's import graph has no cycles, counting every import statement.

Imports under ``TYPE_CHECKING`` and inside functions count too: a cycle among them is a name in
the wrong module, and one refactor away from a partially initialised module at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import agentlog

ROOT = Path(agentlog.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it names in an ``import`` or ``from ... import``."""
    files = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                for alias in node.names:
                    # ``from . import _x`` depends on the module _x, not on the package itself
                    sub = f"{module}.{alias.name}"
                    deps.add(sub if sub in files else module)
        graph[name] = {d for d in deps if d in files and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# The command line (cli <-> _cli_costs/_cli_export) is left out until its own branch breaks
# that cycle; every other module of the package is checked.
ELSEWHERE = ("agentlog.cli", "agentlog._cli_")


def test_the_package_has_no_import_cycles() -> None:
    graph = import_graph()
    assert "agentlog._state" in graph and "agentlog._context" in graph
    mine = {m: {d for d in ds if not d.startswith(ELSEWHERE)} for m, ds in graph.items()
            if not m.startswith(ELSEWHERE)}  # fmt: skip
    assert cycles(mine) == []
