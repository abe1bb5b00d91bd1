"""Test support shared by the provider integrations' test suites (not shipped, not installed).

The repository's root ``conftest.py`` puts this folder on ``sys.path``. An integration's
``conftest.py`` declares its ``provider`` fixture and imports the common fixtures from
``agentlog_testsupport.fixtures``; ``respx.mock(using="httpx2")`` comes from
``agentlog_testsupport.respx_httpx2``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import agentlog
from agentlog.instrumentation import USAGE_KEYS
from agentlog.testing import Capture, capture

__all__ = [
    "EXAMPLES",
    "SUPPORT_PATH",
    "Provider",
    "assert_llm_call_shape",
    "call_and_read",
    "instrumented_capture",
    "run_example",
    "run_to_exit",
]

SUPPORT_PATH = str(Path(__file__).resolve().parents[1])  # for subprocesses' sys.path
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@dataclass(frozen=True)
class Provider:
    """What the common fixtures need to know about one integration."""

    name: str  # the integration's name for agentlog.instrument()
    env_key: str  # the SDK's API-key variable, unset so no test can reach the real service
    base_url: str  # what respx routes are relative to
    client: Callable[[], Any]  # a sync client with retries off
    aclient: Callable[[], Any]  # the async twin


def assert_llm_call_shape(data: dict[str, Any]) -> None:
    """``llm_call`` data has the shape DESIGN §2 gives it, whichever integration recorded it:
    the same keys, tool calls as ``{id, name, arguments}`` with ``arguments`` an object (or the
    raw text when it did not parse), usage only under the shared key names."""
    for key in ("provider", "request_model", "model", "params", "stream"):
        assert key in data, f"llm_call data has no {key!r}: {sorted(data)}"
    assert isinstance(data["provider"], str) and data["provider"]
    assert isinstance(data["request_model"], str) and data["request_model"]
    assert isinstance(data["model"], str) and data["model"]
    for call in data.get("tool_calls") or ():
        assert set(call) == {"id", "name", "arguments"}, call
        assert isinstance(call["arguments"], (dict, str)) or call["arguments"] is None, call
    usage = data.get("usage")
    if usage is not None:
        assert set(usage) <= set(USAGE_KEYS), f"usage keys outside DESIGN §2: {sorted(usage)}"
        assert all(isinstance(v, int) for v in usage.values()), usage


@contextmanager
def instrumented_capture(name: str) -> Iterator[Capture]:
    """The integration ``name`` instrumented and recording for one block, uninstrumented after
    it: a test compares what its calls return inside with the uninstrumented baseline."""
    assert agentlog.instrument(name)
    try:
        with capture() as cap:
            yield cap
    finally:
        agentlog.uninstrument(name)


async def call_and_read(
    call: Callable[[], Any], *, is_async: bool, stream: bool, errors: type[BaseException]
) -> tuple[list[Any], BaseException | None]:
    """Make one SDK call and read a stream to its end.

    Returns what the caller saw (``(type, to_dict())`` of the result, or of each streamed
    item) and the ``errors`` exception the SDK raised, if any.
    """
    seen: list[Any] = []
    try:
        result = call()
        if is_async:
            result = await result
        if not stream:
            seen.append((type(result), result.to_dict()))
        elif is_async:
            async for item in result:
                seen.append((type(item), item.to_dict()))
        else:
            for item in result:
                seen.append((type(item), item.to_dict()))
    except errors as exc:
        return seen, exc
    return seen, None


def run_example(script: str, *, cwd: Path, env_key: str) -> subprocess.CompletedProcess[str]:
    """Run ``examples/<script>`` in a fresh interpreter without the API key or AGENTLOG_*."""
    env = {k: v for k, v in os.environ.items() if k != env_key and not k.startswith("AGENTLOG_")}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_to_exit(
    body: str, *, tests_dir: Path, cwd: Path, env_prefix: str, name: str
) -> list[dict[str, Any]]:
    """Run ``body`` in a fresh interpreter recording to ``cwd/events.jsonl`` with the
    integration ``name`` on, and return the ``llm_call`` events it wrote by the time it exited.

    ``body`` may import ``tests_dir``'s fakes and use ``respx.mock(using="httpx2")``; what it
    leaves open at its end is open at interpreter exit, which is what these runs are for. The
    SDK's own variables (``env_prefix``: its API key, base URL, ...) are not passed on, so the
    client goes nowhere but to the fakes.
    """
    script = cwd / "run_to_exit.py"
    prelude = f"""\
        import sys
        sys.path[:0] = [{str(tests_dir)!r}, {SUPPORT_PATH!r}]
        import agentlog_testsupport.respx_httpx2
        import agentlog
        agentlog.init(path="events.jsonl", instrument=[{name!r}])
        """
    script.write_text(textwrap.dedent(prelude) + textwrap.dedent(body))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLOG_", env_prefix))}
    subprocess.run([sys.executable, str(script)], cwd=cwd, env=env, check=True, timeout=60)
    lines = (cwd / "events.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r.get("type") == "llm_call"]
