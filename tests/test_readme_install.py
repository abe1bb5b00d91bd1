"""The README's install commands work from a checkout as written: every path they name is a
project of this repository, every extra exists, and an integration is always installed together
with agentlog itself (it is not on PyPI yet, so ``pip install ./integrations/x`` alone fails)."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")

ROOT = Path(__file__).resolve().parents[1]


def _pip_installs() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    commands = []
    for block in blocks:
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("pip install"):
                commands.append(shlex.split(line)[2:])
    return commands


def _extras() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(meta["project"]["optional-dependencies"])


def test_every_readme_install_works_from_a_checkout() -> None:
    commands = _pip_installs()
    assert commands, "the README shows how to install"
    for args in commands:
        projects = []
        for arg in args:
            path, _, extras = arg.partition("[")
            assert path == "." or path.startswith("./"), f"{args}: {arg} is not a local path"
            assert (ROOT / path / "pyproject.toml").is_file(), f"{arg}: no project there"
            for extra in filter(None, extras.rstrip("]").split(",")):
                assert path != "." or extra in _extras(), f"{arg}: no extra {extra!r}"
            projects.append(path)
        if any(p.startswith("./integrations/") for p in projects):
            assert "." in projects, f"{args}: an integration needs agentlog in the same command"


def test_every_integration_is_shown_and_depends_on_agentlog() -> None:
    shown = {a for args in _pip_installs() for a in args if a.startswith("./integrations/")}
    for project in sorted((ROOT / "integrations").glob("*/pyproject.toml")):
        meta = tomllib.loads(project.read_text())
        if not meta["project"]["name"].startswith("agentlog-"):
            continue  # shared test support, not a user package
        assert f"./integrations/{project.parent.name}" in shown
        assert any(d.startswith("agentlog") for d in meta["project"]["dependencies"])
