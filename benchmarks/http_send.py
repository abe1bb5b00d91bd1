"""What one request of the ``http`` exporter costs the host: the CPU of ``IngestClient.send``.

A real collector (``agentlog serve`` on SQLite, 127.0.0.1) answers; this process sends batches
of ``--sizes`` records one at a time and takes the sending thread's CPU (``time.thread_time``)
for each: building the body (join, gzip level 1) and the request and its answer. Also the
body alone, to tell the two apart. Medians of ``--repeat`` requests each.

    python benchmarks/http_send.py [--sizes 1,512,2048] [--repeat 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import free_port, tool_call_line
from collector_ingest import KEY, _start_collector

from agentlog._ids import new_id_str
from agentlog.exporters._ingest import IngestClient


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--sizes", default="1,512,2048")
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = _start_collector(str(Path(tmp) / "send.db"), port, Path(tmp) / "serve.log", 1)
        client = IngestClient(f"http://127.0.0.1:{port}", api_key=KEY, timeout=30.0)
        try:
            sid = new_id_str()
            for size in map(int, args.sizes.split(",")):
                sends, bodies = [], []
                for i in range(args.repeat + 1):
                    lines = [tool_call_line(sid, f"q{i}-{j}") for j in range(size)]
                    t = time.thread_time()
                    client.body(lines)
                    body = time.thread_time() - t
                    t = time.thread_time()
                    outcome = client.send(lines)
                    took = time.thread_time() - t
                    assert outcome.kind == "delivered" and not outcome.rejected, outcome
                    if i:  # the first opens the connection
                        sends.append(took)
                        bodies.append(body)
                send_ms = statistics.median(sends) * 1e3
                body_ms = statistics.median(bodies) * 1e3
                print(f"{size:>5} records: send {send_ms:6.3f} ms of CPU (of which the body {body_ms:6.3f}),"
                      f" {send_ms * 1e3 / size:7.2f} µs an event")  # fmt: skip
        finally:
            client.close()
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
