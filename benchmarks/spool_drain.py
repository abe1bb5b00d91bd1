"""Time to drain a spool of 100k records once the collector is back.

A previous process's spool is built on disk (what the ``http`` exporter leaves when it exits
while the collector is down), a collector is started, and a fresh ``HttpExporter`` drains it.
The collector is the real one (``agentlog serve`` on SQLite) when it is installed; until then a
minimal real ingest endpoint (uvicorn, gzip + JSON decoding, per-record id check) stands in.

    python benchmarks/spool_drain.py [--records 100000] [--batch 512] [--minimal]
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from agentlog._ids import new_id_str

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import free_port, tool_call_line

from agentlog._stats import Stats
from agentlog.exporters._spool import Spool
from agentlog.exporters.http import HttpExporter

KEY = "bench-key"


# -- the stand-in ingest endpoint (runs in its own process) -----------------------------------


async def _minimal_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["method"] == "GET":
        body = orjson.dumps({"records": len(_SEEN)})
        return await _reply(send, 200, body)
    chunks = []
    more = True
    while more:
        msg = await receive()
        chunks.append(msg.get("body", b""))
        more = msg.get("more_body", False)
    raw = b"".join(chunks)
    headers = dict(scope["headers"])
    if headers.get(b"authorization") != f"Bearer {KEY}".encode():
        return await _reply(send, 401, b'{"error":{"message":"bad key"}}')
    if headers.get(b"content-encoding") == b"gzip":
        raw = gzip.decompress(raw)
    records = orjson.loads(raw)["records"]
    accepted, rejected = [], []
    for i, rec in enumerate(records):
        rid = rec.get("id") if isinstance(rec, dict) else None
        if isinstance(rid, str):
            accepted.append(rid)
            _SEEN.add(rid)
        else:
            rejected.append({"index": i, "id": rid, "reason": "id: required"})
    await _reply(send, 200, orjson.dumps({"accepted": accepted, "rejected": rejected}))


_SEEN: set[str] = set()


async def _reply(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def _serve_minimal(port: int) -> None:
    import uvicorn

    uvicorn.run(_minimal_app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the benchmark ----------------------------------------------------------------------------


def _records(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        if i % 1000 == 0:
            sid = new_id_str()
        out.append(tool_call_line(sid, f"reset password {i}"))
    return out


def _start_server(port: int, workdir: Path, minimal: bool) -> tuple[subprocess.Popen[bytes], str]:
    real = not minimal and importlib.util.find_spec("agentlog.collector") is not None
    if real:
        env = dict(os.environ, AGENTLOG_API_KEYS=f"{KEY}:bench")
        script = Path(sys.executable).with_name("agentlog")
        launcher = [str(script)] if script.exists() else [sys.executable, "-m", "agentlog.cli"]
        cmd = [*launcher, "serve", "--db", f"sqlite:///{workdir / 'collector.db'}",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
        kind = "agentlog collector (SQLite)"
    else:
        env = dict(os.environ)
        cmd = [sys.executable, __file__, "--serve-minimal", str(port)]
        kind = "minimal ingest endpoint (uvicorn, no store)"
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.monotonic() + 30
    probe = "/healthz" if real else "/"
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=1.0).status_code < 500:
                return proc, kind
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit(f"the server did not start: {' '.join(cmd)}")
        threading.Event().wait(0.05)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--minimal", action="store_true", help="use the stand-in endpoint")
    ap.add_argument("--serve-minimal", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_minimal:
        return _serve_minimal(args.serve_minimal)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        spool_dir = workdir / "spool"
        lines = _records(args.records)
        previous = Spool(spool_dir, max_bytes=1 << 34)  # the process that exited while down
        previous.open()
        for i in range(0, len(lines), args.batch):
            previous.write(lines[i : i + args.batch])
        previous.close()
        files = previous.files()
        size = sum(p.stat().st_size for p in files)

        port = free_port()
        proc, kind = _start_server(port, workdir, args.minimal)
        try:
            stats = Stats()
            t0 = time.perf_counter()
            exporter = HttpExporter(
                f"http://127.0.0.1:{port}", api_key=KEY, spool_dir=str(spool_dir)
            )
            exporter.bind_stats(stats)  # the next process starts: its drain begins
            done = threading.Event()
            while any(p.suffix == ".jsonl" for p in spool_dir.iterdir()):
                done.wait(0.005)
            elapsed = time.perf_counter() - t0
            exporter.shutdown(5.0)
            observed, failed = stats.totals["observed"], stats.totals["failed"]
        finally:
            proc.terminate()
            proc.wait(10)

    print(f"server:            {kind}")
    print(f"spool:             {args.records} records in {len(files)} files, {size / 1e6:.1f} MB")
    print(f"drain time:        {elapsed:.2f} s")
    print(f"drain rate:        {args.records / elapsed:,.0f} records/s")
    print(f"delivered:         {observed} observed, {failed} failed")
    if observed != args.records:
        raise SystemExit(f"expected {args.records} delivered records, got {observed}")


if __name__ == "__main__":
    main()
