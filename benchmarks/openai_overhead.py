"""Added latency per instrumented OpenAI call, against a respx-mocked server.

Two calls: a plain chat completion, and a streamed one of 200 chunks read to the end. Each is
timed uninstrumented and instrumented (agentlog recording to a JSONL file in a session, the
default set-up), in alternating rounds so drift hits both alike. Prints the median per-call
time of each, the added latency and the ratio instrumented / uninstrumented.

``--no-gc`` times with the cyclic garbage collector paused (collected between measurements), to
isolate agentlog's own work: an uninstrumented openai ``Stream`` is a reference cycle left to
the collector, while the instrumented one is freed at once, which on its own can make the
instrumented stream *faster* with the collector running.

    python benchmarks/openai_overhead.py [--rounds 15] [--calls 200]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "integrations" / "openai" / "tests"
sys.path.insert(0, str(TESTS))

import openai  # noqa: E402
import respx  # noqa: E402
import respx_httpx2  # noqa: E402, F401  (respx's "httpx2" mocker: openai 3.x sends through httpx2)
from openai_fakes import BASE, chat_chunks, chat_completion, chat_stream_response  # noqa: E402

import agentlog  # noqa: E402

MESSAGES = [{"role": "user", "content": "Say hello"}]
WORDS = [f"w{i} " for i in range(198)]  # + the role chunk and the finish chunk = 200 chunks


def _time(fn: Callable[[], object], calls: int, *, no_gc: bool = False) -> float:
    """Seconds per call, over ``calls`` calls."""
    if no_gc:
        gc.collect()
        gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200, help="calls per round (plain)")
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

    path = Path(tempfile.mkdtemp(prefix="agentlog-bench-")) / "events.jsonl"
    agentlog.init(path=str(path))
    results: dict[str, dict[str, list[float]]] = {"plain": {"off": [], "on": []},
                                                  "stream 200 chunks": {"off": [], "on": []}}  # fmt: skip
    with router, agentlog.session("openai overhead benchmark"):
        for fn, calls in ((plain, 20), (streamed, 5)):  # warm up both paths
            _time(fn, calls)
            agentlog.instrument("openai")
            _time(fn, calls)
            agentlog.uninstrument("openai")
        for _ in range(args.rounds):
            for label, fn, calls in (("plain", plain, args.calls),
                                     ("stream 200 chunks", streamed, max(args.calls // 10, 5))):  # fmt: skip
                results[label]["off"].append(_time(fn, calls, no_gc=args.no_gc))
                agentlog.instrument("openai")
                results[label]["on"].append(_time(fn, calls, no_gc=args.no_gc))
                agentlog.uninstrument("openai")
    agentlog.flush(30.0)
    status = agentlog.status()
    agentlog.shutdown()

    print(
        f"openai {openai.__version__}, respx-mocked server, {args.rounds} rounds, median per call"
    )
    print(f"{'call':<20}{'uninstrumented':>16}{'instrumented':>15}{'added':>12}{'ratio':>8}")
    for label, runs in results.items():
        off, on = statistics.median(runs["off"]), statistics.median(runs["on"])
        print(f"{label:<20}{off * 1e6:>14.1f}us{on * 1e6:>13.1f}us"
              f"{(on - off) * 1e6:>10.1f}us{on / off:>8.3f}")  # fmt: skip
    print(f"records observed {status.observed}, dropped {status.dropped}, failed {status.failed}")


if __name__ == "__main__":
    main()
