"""Added latency per instrumented OpenAI call, against a respx-mocked server.

Two calls: a plain chat completion, and a streamed one of 200 chunks read to the end. Each is
timed uninstrumented and instrumented (agentlog recording to a JSONL file in a session, the
default set-up), in alternating rounds so drift hits both alike. Prints the median per-call
time of each (wall clock, and the process's CPU time, which other load on the machine barely
moves), the added latency and the ratio instrumented / uninstrumented.

``--no-gc`` times with the cyclic garbage collector paused (collected between measurements), to
isolate agentlog's own work: an uninstrumented openai ``Stream`` is a reference cycle left to
the collector, while the instrumented one is freed at once, which on its own can make the
instrumented stream *faster* with the collector running.

    python benchmarks/openai_overhead.py [--rounds 31] [--calls 100] [--no-gc]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

INTEGRATIONS = Path(__file__).resolve().parents[1] / "integrations"
sys.path[:0] = [str(INTEGRATIONS / "openai" / "tests"), str(INTEGRATIONS / "_testsupport")]

import agentlog_testsupport.respx_httpx2  # noqa: E402, F401  (openai 3.x sends through httpx2)
import openai  # noqa: E402
import respx  # noqa: E402
from openai_fakes import BASE, chat_chunks, chat_completion, chat_stream_response  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import scratch_dir  # noqa: E402

import agentlog  # noqa: E402

MESSAGES = [{"role": "user", "content": "Say hello"}]
WORDS = [f"w{i} " for i in range(198)]  # + the role chunk and the finish chunk = 200 chunks


def _time(fn: Callable[[], object], calls: int, *, no_gc: bool) -> tuple[float, float]:
    """(wall, CPU) seconds per call over ``calls`` calls; CPU is the whole process's, agentlog's
    export thread included."""
    if no_gc:
        gc.collect()
        gc.disable()
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - wall) / calls, (time.process_time() - cpu) / calls
    finally:
        gc.enable()


def _own_work(
    completion: dict[str, object], chunks: list[dict[str, object]]
) -> tuple[float, float]:
    """Seconds of agentlog's own work for one recorded call, and for one streamed chunk: the
    wrapper's steps run directly on parsed SDK objects, so the figure does not drown in HTTP."""
    from agentlog_openai import _wrap
    from agentlog_openai._stream import StreamRecorder
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    parsed = ChatCompletion.model_validate(completion)
    parsed_chunks = [ChatCompletionChunk.model_validate(c) for c in chunks]
    kwargs = {"model": "gpt-4o", "messages": MESSAGES, "temperature": 0.2}
    begin, end = _wrap._begin("chat"), _wrap._end("chat")
    per_call, per_chunk = [], []
    for _ in range(31):
        start = time.perf_counter()
        for _ in range(2000):
            call = begin(kwargs)
            assert call is not None
            end(call, parsed, False)
        per_call.append((time.perf_counter() - start) / 2000)
        call = begin({**kwargs, "stream": True})
        assert call is not None
        rec = StreamRecorder(call.span, "chat", call.start_ns, hide_usage=True)
        start = time.perf_counter()
        for _ in range(10):
            for chunk in parsed_chunks:
                rec.observe(chunk)
        per_chunk.append((time.perf_counter() - start) / (10 * len(parsed_chunks)))
        rec.finish()
    return statistics.median(per_call), statistics.median(per_chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--calls", type=int, default=100, help="calls per round (plain)")
    parser.add_argument("--no-gc", action="store_true", help="pause the cyclic GC while timing")
    args = parser.parse_args()

    chunks = chat_chunks(words=WORDS)
    assert len(chunks) == 200
    completion = chat_completion()
    router = respx.mock(using="httpx2", base_url=BASE)
    router.post("/chat/completions").mock(
        side_effect=lambda req: (
            chat_stream_response(req, chunks)
            if b'"stream":true' in req.content
            else respx.MockResponse(200, json=completion)
        )
    )
    client = openai.OpenAI(api_key="sk-bench", max_retries=0)

    def plain() -> object:
        return client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    def streamed() -> object:
        stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        n = sum(1 for _ in stream)
        assert n == 200, n
        return n

    path = Path(scratch_dir("agentlog-bench-")) / "events.jsonl"
    agentlog.init(path=str(path))
    calls = {
        "plain": (plain, args.calls),
        "stream 200 chunks": (streamed, max(args.calls // 10, 3)),
    }
    results: dict[str, dict[str, list[tuple[float, float]]]] = {
        label: {"off": [], "on": []} for label in calls
    }
    with router, agentlog.session("openai overhead benchmark"):
        for fn, n in calls.values():  # warm up both paths
            _time(fn, max(n // 4, 2), no_gc=False)
            agentlog.instrument("openai")
            _time(fn, max(n // 4, 2), no_gc=False)
            agentlog.uninstrument("openai")
        for _ in range(args.rounds):
            for label, (fn, n) in calls.items():
                results[label]["off"].append(_time(fn, n, no_gc=args.no_gc))
                agentlog.instrument("openai")
                results[label]["on"].append(_time(fn, n, no_gc=args.no_gc))
                agentlog.uninstrument("openai")
        own = _own_work(completion, chunks)
    agentlog.flush(30.0)
    status = agentlog.status()
    agentlog.shutdown()

    gc_note = "cyclic GC paused while timing" if args.no_gc else "cyclic GC on"
    print(f"openai {openai.__version__}, respx-mocked server, {args.rounds} rounds, "
          f"median per call, {gc_note}")  # fmt: skip
    print(f"{'call':<19}{'clock':<6}{'uninstrumented':>15}{'instrumented':>14}{'added':>11}"
          f"{'ratio':>7}")  # fmt: skip
    for label, runs in results.items():
        for i, clock in enumerate(("wall", "cpu")):
            off = statistics.median(r[i] for r in runs["off"])
            on = statistics.median(r[i] for r in runs["on"])
            print(f"{label:<19}{clock:<6}{off * 1e6:>13.1f}us{on * 1e6:>12.1f}us"
                  f"{(on - off) * 1e6:>9.1f}us{on / off:>7.3f}")  # fmt: skip
    print(f"agentlog's own work, no HTTP (median of 31 x 2000): {own[0] * 1e6:.1f}us per call "
          f"(request + response recorded), {own[1] * 1e6:.2f}us per streamed chunk")  # fmt: skip
    print(f"records observed {status.observed}, dropped {status.dropped}, failed {status.failed}")


if __name__ == "__main__":
    main()
