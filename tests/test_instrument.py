"""agentlog._instrument: integrations by name, ``instrument=True``, and names that are typos."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

import agentlog
from agentlog._instrument import available_integrations, instrument_all
from agentlog.exporters import MemoryExporter


@pytest.fixture
def uninstrument_all() -> Iterator[None]:
    yield
    for name in available_integrations():
        agentlog.uninstrument(name)


def test_instrument_true_includes_threading(uninstrument_all: None) -> None:
    exporter = MemoryExporter()
    agentlog.init(exporter=exporter, instrument=True)

    @agentlog.tool
    def lookup(q: str) -> str:
        return q.upper()

    with agentlog.session("pool") as sess, ThreadPoolExecutor(max_workers=2) as pool:
        assert pool.submit(lookup, "x").result() == "X"
    assert agentlog.flush(10.0)
    [call] = [r for r in exporter.records if r.get("type") == "tool_call"]
    assert call["session_id"] == sess.id  # a plain executor's worker records in the session
    assert "threading" in instrument_all()  # and it is among what instrument=True switched on


def test_a_misspelt_name_suggests_the_right_one() -> None:
    with pytest.raises(ValueError, match=r"did you mean 'threading'\?"):
        agentlog.init(exporter="memory", instrument=["threadng"])
    with pytest.raises(ValueError, match=r"did you mean 'threading'\?"):
        agentlog.instrument("Threading")


def test_a_name_like_nothing_installed_says_what_to_install() -> None:
    with pytest.raises(ValueError) as info:
        agentlog.instrument("zzzqqq")
    assert "did you mean" not in str(info.value)
    assert "pip install agentlog-zzzqqq" in str(info.value)
    assert "threading" in str(info.value)  # the installed ones are listed
