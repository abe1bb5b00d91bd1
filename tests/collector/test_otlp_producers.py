"""Real OTLP producers into a real collector: each instrumentation library, in its own process,
calls a fake OpenAI API on a loopback port and exports with the OpenTelemetry SDK's
OTLP/HTTP protobuf exporter, configured only through the standard OTEL_* variables. Every call
must read back as an llm_call with its model, messages, response and usage."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentlog.collector import KeyRing, create_app
from agentlog.store import Store, open_store

from . import fake_openai
from .conftest import KEY_A, KEYS
from .servers import ThreadServer

SETUP = {
    "openai-v2": (
        "from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor\n"
        "OpenAIInstrumentor().instrument(tracer_provider=tp)\n",
        # The current conventions, content on the span (the default puts it in log events,
        # which are not traces).
        {
            "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_only",
        },
    ),
    "openinference": (
        "from openinference.instrumentation.openai import OpenAIInstrumentor\n"
        "from openinference.instrumentation import using_session\n"
        "OpenAIInstrumentor().instrument(tracer_provider=tp)\n",
        {},
    ),
    "traceloop": (
        "from opentelemetry.instrumentation.openai import OpenAIInstrumentor\n"
        "OpenAIInstrumentor().instrument(tracer_provider=tp)\n",
        {"TRACELOOP_TRACE_CONTENT": "true"},
    ),
}

SCRIPT = """\
import openai
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

tp = TracerProvider(resource=Resource.create({{"service.name": "producer"}}))
tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
{setup}
client = openai.OpenAI(base_url={base!r}, api_key="sk-test", max_retries=0)
msgs = [{{"role": "system", "content": "Be brief."}}, {{"role": "user", "content": "Say hi"}}]
with tp.get_tracer("app").start_as_current_span("agent turn"):
    client.chat.completions.create(model="gpt-4o", messages=msgs)
    stream = client.chat.completions.create(model="gpt-4o", messages=msgs, stream=True,
                                            stream_options={{"include_usage": True}})
    for _ in stream:
        pass
assert tp.force_flush(20_000)
tp.shutdown()
"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Store]]:
    store = open_store(tmp_path_factory.mktemp("otlp") / "c.db", processing=False)
    with ThreadServer(fake_openai.app()) as api, \
            ThreadServer(create_app(store, keys=KeyRing(env=KEYS))) as coll:  # fmt: skip
        yield api.url + "/v1", coll.url, store
    store.close()


def run_producer(name: str, base: str, collector: str, tmp: Path) -> None:
    setup, env_extra = SETUP[name]
    script = tmp / f"producer_{name.replace('-', '_')}.py"
    script.write_text(SCRIPT.format(setup=textwrap.dedent(setup), base=base))
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_", "TRACELOOP_"))
    }
    env.update(env_extra)
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector
    env["OTEL_EXPORTER_OTLP_HEADERS"] = f"Authorization=Bearer {KEY_A}"
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Failed to export" not in done.stderr, done.stderr[-3000:]


def llm_calls(store: Store) -> list[Any]:
    items = store.iterate_events(types=["llm_call"], limit=1000, project="a").events
    return [e for e in items if getattr(e, "type", None) == "llm_call"]


@pytest.mark.parametrize("name", sorted(SETUP))
def test_producer_calls_read_back_as_llm_calls(name: str, servers: Any, tmp_path: Path) -> None:
    base, collector, store = servers
    before = {e.id for e in llm_calls(store)}
    run_producer(name, base, collector, tmp_path)
    calls = [e for e in llm_calls(store) if e.id not in before]
    assert len(calls) == 2, [c.data for c in calls]
    for call in calls:
        d = call.data
        assert d["request_model"] == "gpt-4o", d
        assert d["model"] == "gpt-4o-2024-08-06", d
        assert d["provider"] == "openai", d
        user = [m for m in d["messages"] if m["role"] == "user"]
        assert user and user[0]["content"] == "Say hi", d["messages"]
        assert d["response"] == "Hello there!", d
        assert d["usage"]["input_tokens"] == 21 and d["usage"]["output_tokens"] == 9, d
        assert call.parent_id is not None  # under the app's own "agent turn" span
    (streamed,) = [c for c in calls if c.data.get("stream")] or [None]
    if name != "openai-v2":  # it says neither that the call streamed nor when the first chunk came
        assert streamed is not None and streamed.data["time_to_first_token_ms"] > 0
