"""agentlog.instrumentation: the public door for integration authors, and the guide that shows it.

- every public name is importable, sorted and documented in docs/writing-an-integration.md;
- no integration that ships with agentlog imports a private ``agentlog._*`` module;
- the guide's worked example (a fourth integration) runs exactly as written.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import agentlog.instrumentation as instrumentation

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "writing-an-integration.md"
INTEGRATIONS = ROOT / "integrations"


def test_all_is_sorted_importable_and_documented() -> None:
    names = list(instrumentation.__all__)
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    guide = GUIDE.read_text()
    for name in names:
        assert getattr(instrumentation, name) is not None
        assert f"`{name}" in guide, f"{name} is public but docs/writing-an-integration.md is silent"


def test_public_names_are_the_ones_documented_only() -> None:
    # What the module imports for itself is kept under private names: only __all__ is API.
    # ("@py_..." names are pytest's assertion rewriting, "annotations" the __future__ import.)
    public = {n for n in vars(instrumentation) if not n.startswith(("_", "@"))}
    extra = public - set(instrumentation.__all__) - {"annotations"}
    assert extra == set()


def _private_uses(path: Path) -> list[str]:
    """Every ``agentlog._x`` a Python file imports or reaches through an attribute."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "agentlog":
                modules = [f"agentlog.{node.attr}"]
        for module in modules:
            parts = module.split(".")
            if parts[0] == "agentlog" and any(
                p.startswith("_") and not p.startswith("__") for p in parts[1:]
            ):
                found.append(f"{path}:{node.lineno}: {module}")
                break  # one report per import statement
    return found


def test_no_integration_imports_a_private_agentlog_module() -> None:
    # The integrations (code, tests, benchmarks, test support) and their example agents.
    files = sorted([*INTEGRATIONS.rglob("*.py"), *(ROOT / "examples").glob("*_agent.py")])
    assert any("agentlog_openai" in str(f) for f in files)  # the scan sees the integrations
    offenders = [use for f in files for use in _private_uses(f)]
    assert offenders == [], "integrations must use agentlog.instrumentation:\n" + "\n".join(
        offenders
    )


def test_the_private_import_check_catches_each_form(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import agentlog._spans\nfrom agentlog._log import warn_once\n"
        "from agentlog import _model_calls\nimport agentlog\nagentlog._context.span_var\n"
        "from agentlog.instrumentation import usage\nagentlog.__version__\n"
    )
    uses = [u.rsplit(": ", 1)[1] for u in _private_uses(sample)]
    assert uses == ["agentlog._spans", "agentlog._log", "agentlog._model_calls",
                    "agentlog._context"]  # fmt: skip


def _guide_blocks() -> tuple[dict[str, str], dict[str, str]]:
    """The guide's files (``<!-- file: NAME -->`` before a fence) and shown outputs."""
    files: dict[str, str] = {}
    outputs: dict[str, str] = {}
    pattern = re.compile(r"<!-- (file|output of): (.+?) -->\n```[a-z]*\n(.*?)```", re.S)
    for kind, name, body in pattern.findall(GUIDE.read_text()):
        (files if kind == "file" else outputs)[name.strip()] = body
    return files, outputs


def _install(project: Path, pyproject: str) -> None:
    """What ``pip install .`` leaves for importlib.metadata: a dist-info with the entry points
    the guide's pyproject.toml declares."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the example itself needs no TOML
    meta = tomllib.loads(pyproject)["project"]
    dist = project / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
    )
    lines = []
    for group, points in meta["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in points.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def guide_project(tmp_path: Path) -> tuple[Path, dict[str, str], dict[str, str]]:
    files, outputs = _guide_blocks()
    assert {"tinyllm.py", "agentlog_tinyllm.py", "pyproject.toml", "main.py"} <= set(files)
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    _install(tmp_path, files["pyproject.toml"])
    return tmp_path, files, outputs


def _env(project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")}
    env["PYTHONPATH"] = os.pathsep.join([str(project), env.get("PYTHONPATH", "")])
    return env


def test_the_worked_example_runs_as_written(
    guide_project: tuple[Path, dict[str, str], dict[str, str]],
) -> None:
    project, _files, outputs = guide_project
    run = subprocess.run(
        [sys.executable, "main.py"], cwd=project, env=_env(project),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout == outputs["python main.py"]
    assert run.stderr == ""  # no warning from agentlog: nothing in the integration failed


def test_the_worked_examples_test_passes(
    guide_project: tuple[Path, dict[str, str], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The guide's own test, run here in-process (as the integration's pytest would)."""
    import importlib

    from agentlog import _instrument

    project, files, _outputs = guide_project
    assert "test_agentlog_tinyllm.py" in files
    monkeypatch.syspath_prepend(str(project))
    monkeypatch.setattr(_instrument, "_instances", {})  # this test's instrumentor only
    for name in ("tinyllm", "agentlog_tinyllm", "test_agentlog_tinyllm"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    module = importlib.import_module("test_agentlog_tinyllm")
    tests = [getattr(module, n) for n in dir(module) if n.startswith("test_")]
    assert tests
    try:
        for test in tests:
            test()
    finally:
        _instrument.uninstrument("tinyllm")
        for name in ("tinyllm", "agentlog_tinyllm", "test_agentlog_tinyllm"):
            sys.modules.pop(name, None)


def test_the_example_integration_type_checks(
    guide_project: tuple[Path, dict[str, str], dict[str, str]],
) -> None:
    """The guide promises a typed API: its integration passes the project's own mypy settings
    (strict), as written. Run from the repository so mypy's cache of agentlog is reused."""
    project, _files, _outputs = guide_project
    run = subprocess.run(
        [sys.executable, "-m", "mypy", str(project / "agentlog_tinyllm.py"),
         str(project / "tinyllm.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_importing_it_stays_cheap() -> None:
    """Integrations import it at instrument() time: it must not drag in pydantic or httpx."""
    code = ("import sys, agentlog.instrumentation; "
            "print(sorted(m for m in ('pydantic', 'httpx', 'opentelemetry') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
