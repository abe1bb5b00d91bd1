"""``agentlog export --format jsonl`` of a large local store: records/s (target >= 100k/s).

Builds a SQLite store of ``--events`` tool_call events in ``--sessions`` sessions (through the
store's own ingest; not timed), then times ``agentlog export --db ... --out FILE`` in this
process, and checks that the file holds every record once.

    python benchmarks/export.py [--events 1000000] [--sessions 1000] [--db PATH (kept)]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import tool_call_line, verdict

TARGET = 100_000.0


def build(db: str, events: int, sessions: int) -> None:
    from agentlog._ids import new_id_str
    from agentlog.store import open_store

    store = open_store(db, processing=False)
    per = events // sessions
    t0 = time.perf_counter()
    try:
        for s in range(sessions):
            sid = new_id_str()
            batch = [{"v": 1, "kind": "session", "id": sid, "name": "bench", "user": f"u{s % 10}",
                      "status": "success", "started_at": "2026-11-30T00:00:00.000000Z",
                      "ended_at": "2026-11-30T00:10:00.000000Z"}]  # fmt: skip
            batch += [orjson.loads(tool_call_line(sid, f"q{s}-{i}")) for i in range(per)]
            result = store.ingest(batch)
            assert not result.rejected, result.rejected[:3]
    finally:
        store.close()
    print(f"built {db}: {sessions} sessions, {per * sessions} events "
          f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--db", help="build (or reuse, when it exists) this store")
    args = ap.parse_args()
    from agentlog.cli import build_parser
    from agentlog.cli import main as cli

    build_parser()  # imports (the collector's FastAPI too) before the clock starts

    with tempfile.TemporaryDirectory() as t:
        db = args.db or str(Path(t) / "export.db")
        if not Path(db).exists():
            build(db, args.events, args.sessions)
        out = Path(t) / "export.jsonl"
        t0, c0 = time.perf_counter(), time.process_time()
        code = cli(["export", "--db", db, "--format", "jsonl", "--out", str(out), "--quiet"])
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert code == 0
        kinds: dict[str, int] = {}
        with open(out, "rb") as f:
            for line in f:
                kind = orjson.loads(line)["kind"]
                kinds[kind] = kinds.get(kind, 0) + 1
        records = sum(kinds.values())
        size = out.stat().st_size
    rate = records / wall
    # CPU seconds too: on a shared machine the wall clock also counts the waits for a core.
    print(f"agentlog export --format jsonl: {records:,} records ({kinds}), {size / 1e6:.0f} MB "
          f"in {wall:.2f} s ({cpu:.2f} s CPU): {rate:,.0f} records/s, "
          f"{records / cpu:,.0f} per CPU second (target {TARGET:,.0f}/s: "
          f"{verdict(rate >= TARGET)})")  # fmt: skip


if __name__ == "__main__":
    main()
