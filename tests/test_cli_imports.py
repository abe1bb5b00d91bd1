"""The command-line modules import each other in one direction only: ``cli`` uses the command
modules, which use ``_cli_common``, never ``cli`` again (function-level imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import agentlog

SRC = Path(agentlog.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.level and node.module else (
                    base if node.level else node.module or "")  # fmt: skip
                edges.add(target)
                edges.update(f"{target}.{a.name}" for a in node.names)
        graph[name] = {e for e in edges if e in modules and e != name}
    return graph


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), list(graph[start])
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return False


def test_no_import_cycle_through_the_cli_modules() -> None:
    graph = _graph()
    cli_modules = [m for m in graph if m.rpartition(".")[2].lstrip("_").startswith("cli")]
    assert {"agentlog.cli", "agentlog._cli_read", "agentlog._cli_follow"} <= set(cli_modules)
    assert "agentlog._cli_read" in graph["agentlog.cli"]  # the graph sees real edges
    cycles = [m for m in cli_modules if _reaches(graph, m, m)]
    assert cycles == []
