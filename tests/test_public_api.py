from __future__ import annotations

import subprocess
import sys

import agentlog


def test_all_is_sorted_and_importable() -> None:
    names = list(agentlog.__all__)
    assert names == sorted(names)
    for name in names:
        assert getattr(agentlog, name) is not None


def test_import_does_not_load_pydantic_or_opentelemetry() -> None:
    code = "import sys, agentlog; print(sorted(m for m in ('pydantic', 'opentelemetry', 'httpx') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_names_resolve() -> None:
    from agentlog import DiskEvent, Event, TextEvent

    assert TextEvent(text="x").type == "text"
    assert DiskEvent(disk_id="d", path="/p").type == "disk"
    assert Event(type="custom").data == {}


def test_dir_shows_the_public_api_only() -> None:
    names = dir(agentlog)
    assert names == sorted(agentlog.__all__)
    for private in ("Any", "TYPE_CHECKING", "annotations", "_api", "_LAZY"):
        assert private not in names
