"""OTLP ingest beside agentlog ingest: 4 concurrent producer processes into one collector.

A real collector (``agentlog serve``) over PostgreSQL (or SQLite) runs on 127.0.0.1. In the
same run, two phases with fresh stores:

- ``otlp``: each process runs the OpenTelemetry SDK (BatchSpanProcessor, the OTLP/HTTP protobuf
  exporter, gzip) and ends ``--spans`` GenAI ``chat`` spans (model, messages, usage) in one
  conversation, exported to ``/v1/traces``;
- ``ingest``: each process runs the agentlog SDK (``http`` exporter) and records as many
  ``llm_call`` events with the same content, exported to ``/v1/ingest``.

Reported: spans/s and records/s (all processes together, from the common start to the last
batch acknowledged), their ratio (target >= 0.7), and that everything was stored exactly once.

    python benchmarks/otlp_ingest.py [--spans 20000] [--agents 4] [--store postgres|sqlite]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import free_port, verdict
from collector_ingest import KEY, _start_collector

TARGET = 0.7
MESSAGES = [{"role": "system", "content": "You are a support agent."},
            {"role": "user", "content": "How do I reset my password?"}]  # fmt: skip
USAGE = {"input_tokens": 21, "output_tokens": 9}


def _otlp_agent(url: str, n: int, tag: str, out: Any, go: Any) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tp = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=url + "/v1/traces", compression=Compression.Gzip,
                                headers={"Authorization": f"Bearer {KEY}"})  # fmt: skip
    tp.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=n + 1000,
                                             max_export_batch_size=512, schedule_delay_millis=200))  # fmt: skip
    tracer = tp.get_tracer("bench")
    inputs = json.dumps([{"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]}
                         for m in MESSAGES[1:]])  # fmt: skip
    system = json.dumps([{"type": "text", "content": MESSAGES[0]["content"]}])
    out.put("ready")
    go.wait()
    t0 = time.perf_counter()
    for i in range(n):
        output = json.dumps([{"role": "assistant", "parts": [
            {"type": "text", "content": f"Open settings, then reset ({tag} {i})."}]}])  # fmt: skip
        with tracer.start_as_current_span("chat gpt-4o", attributes={
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.conversation.id": f"bench-otlp-{tag}", "gen_ai.input.messages": inputs,
            "gen_ai.system_instructions": system, "gen_ai.output.messages": output,
            "gen_ai.usage.input_tokens": 21, "gen_ai.usage.output_tokens": 9,
        }):  # fmt: skip
            pass
    ok = tp.force_flush(600_000)
    t1 = time.perf_counter()
    tp.shutdown()
    out.put({"t0": t0, "t1": t1, "ok": ok})


def _ingest_agent(url: str, n: int, tag: str, out: Any, go: Any, spool: str) -> None:
    import agentlog
    from agentlog.exporters.http import HttpExporter

    agentlog.init(exporter=HttpExporter(url, api_key=KEY, spool_dir=spool), max_batch=512,
                  max_queue=n + 1000)  # fmt: skip
    out.put("ready")
    go.wait()
    t0 = time.perf_counter()
    with agentlog.session(f"bench-ingest-{tag}", user=tag):
        for i in range(n):
            agentlog.track_llm_call(model="gpt-4o-2024-08-06", provider="openai",
                                    messages=MESSAGES, usage=USAGE,
                                    response=f"Open settings, then reset ({tag} {i}).")  # fmt: skip
    ok = agentlog.flush(600.0)
    t1 = time.perf_counter()
    agentlog.shutdown()
    out.put({"t0": t0, "t1": t1, "ok": ok})


def _stored(url: str) -> int:
    from agentlog import Client

    total = 0
    with Client(base_url=url, api_key=KEY) as client:
        for s in client.sessions.list(limit=200).items:
            cursor = None
            while True:
                page = client.query.iterate_events(session_id=s.id, types=["llm_call"],
                                                   cursor=cursor, limit=1000)  # fmt: skip
                total += len(page.events)
                cursor = page.next_cursor
                if cursor is None:
                    break
    return total


def phase(kind: str, db: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start_collector(db, port, tmp / f"{kind}.log", 1)
    try:
        ctx = mp.get_context("spawn")
        out, go = ctx.Queue(), ctx.Event()
        procs = []
        for i in range(args.agents):
            extra = (str(tmp / f"spool-{i}"),) if kind == "ingest" else ()
            target = _ingest_agent if kind == "ingest" else _otlp_agent
            procs.append(
                ctx.Process(target=target, args=(url, args.spans, f"a{i}", out, go, *extra))
            )
        for p in procs:
            p.start()
        for _ in procs:
            assert out.get(timeout=300) == "ready"
        go.set()
        results = [out.get(timeout=1200) for _ in procs]
        for p in procs:
            p.join(60)
        stored = _stored(url)
    finally:
        proc.terminate()
        proc.wait(30)
    wall = max(r["t1"] for r in results) - min(r["t0"] for r in results)
    total = args.spans * args.agents
    return {"kind": kind, "total": total, "wall_s": round(wall, 2), "per_s": round(total / wall),
            "stored": stored, "flushed": all(r["ok"] for r in results)}  # fmt: skip


def _db(args: argparse.Namespace, tmp: Path, name: str) -> tuple[str, Any]:
    if args.store == "sqlite":
        return f"sqlite:///{tmp / (name + '.db')}", None
    import psycopg

    schema = f"agentlog_bench_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(args.pg, autocommit=True) as c:
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    sep = "&" if "?" in args.pg else "?"
    return f"{args.pg}{sep}options=-csearch_path%3D{schema}", drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spans", type=int, default=20_000, help="spans (and records) per process")
    ap.add_argument("--agents", type=int, default=4)
    ap.add_argument("--store", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--pg", default=os.environ.get(
        "AGENTLOG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"))  # fmt: skip
    args = ap.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for kind in ("ingest", "otlp"):
            db, drop = _db(args, tmp, kind)
            try:
                rows[kind] = phase(kind, db, args, tmp)
            finally:
                if drop is not None:
                    drop()
    for r in rows.values():
        unit = "spans" if r["kind"] == "otlp" else "records"
        where = "/v1/traces" if r["kind"] == "otlp" else "/v1/ingest"
        print(f"[{args.store}] {where}: {args.agents} processes x {args.spans} {unit}: "
              f"{r['per_s']:,} {unit}/s ({r['wall_s']} s); stored {r['stored']}/{r['total']}"
              f"{'' if r['flushed'] else ', NOT all flushed'}")  # fmt: skip
    ratio = rows["otlp"]["per_s"] / rows["ingest"]["per_s"]
    print(f"OTLP spans/s / ingest records/s = {ratio:.2f} (target >= {TARGET}: "
          f"{verdict(ratio >= TARGET)})")  # fmt: skip
    for r in rows.values():
        if r["stored"] != r["total"]:
            raise SystemExit(f"{r['kind']}: expected {r['total']} stored, found {r['stored']}")


if __name__ == "__main__":
    main()
