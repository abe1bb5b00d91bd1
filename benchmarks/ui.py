"""Web UI figures (issue 10), on `agentlog ui` as a real process and Debian's Chromium.

    python benchmarks/ui.py                     # SQLite; PostgreSQL too when it answers
    python benchmarks/ui.py --sessions 20000    # a smaller sessions list

Targets: a 10,000-event session (nested spans, messages, 100 errors): first timeline page
<= 300 ms server time, rendered and interactive in Chromium <= 1.5 s, scrolling through all of
it with no long task > 100 ms; the sessions list over 100,000 sessions with configs: a filtered
page <= 200 ms server time; total UI assets <= 300 KB. Server times are the median of 7 requests
over loopback HTTP (so they include the HTTP round trip), after one warm-up request.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from _util import free_port, verdict

from agentlog._ids import format_ts, format_uuid, new_id
from agentlog.store import open_store
from agentlog.ui._pages import STATIC

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
CHROMIUM = "/usr/bin/chromium"
SCROLL_STEP = 400  # px per animation frame while scrolling through the long session


def _iso(t: datetime) -> str:
    return format_ts(int(t.timestamp() * 1e9))


def _id(t: datetime, salt: int) -> str:
    return format_uuid(new_id(int(t.timestamp() * 1e9) + salt))


def long_session(sid: str, start: datetime, events: int = 10_000) -> list[dict[str, Any]]:
    """Turns of: a span holding a tool call, an LLM call and a nested step; user and assistant
    messages around them; an error in every 100th... until ``events`` events, 100 of them errors."""
    recs: list[dict[str, Any]] = [{"v": 1, "kind": "session", "id": sid, "name": "Long session",
                                   "user": "bench", "configs": {"agent": "long"},
                                   "status": "running", "started_at": _iso(start)}]  # fmt: skip
    per_turn = 4  # events per turn: span, tool, llm, step (+ an error in some turns)
    turns = (events - 100) // per_turn
    every = max(1, turns // 100)
    ms = timedelta(milliseconds=1)
    n = errors = 0
    t = start
    for turn in range(turns):
        span = _id(t, 1)
        recs.append({"v": 1, "kind": "message", "id": _id(t, 2), "session_id": sid,
                     "ts": _iso(t), "role": "user", "format": "openai",
                     "blob": {"role": "user", "content": f"turn {turn}: please continue"}})  # fmt: skip
        kids = [("tool_call", "search", 10, 60, {"input": {"q": turn}, "output": [turn] * 5}),
                ("llm_call", "answer", 80, 400, {"model": "gpt-4o", "usage": {
                    "input_tokens": 500, "output_tokens": 80}, "response": "ok " * 20}),
                ("step", "post-process", 500, 40, {})]  # fmt: skip
        for j, (typ, name, off, dur, data) in enumerate(kids):
            recs.append({"v": 1, "kind": "event", "id": _id(t + off * ms, 3 + j), "session_id": sid,
                         "parent_id": span, "type": typ, "name": name, "ts": _iso(t + off * ms),
                         "end_ts": _iso(t + (off + dur) * ms), "duration_ms": float(dur),
                         "status": "ok", "data": data})  # fmt: skip
        n += 3
        if turn % every == 0 and errors < 100:
            errors += 1
            recs.append({"v": 1, "kind": "event", "id": _id(t + 550 * ms, 9), "session_id": sid,
                         "parent_id": span, "type": "error", "name": "Timeout",
                         "ts": _iso(t + 550 * ms), "status": "error", "data": {},
                         "error": {"type": "TimeoutError", "message": f"turn {turn} timed out",
                                   "stacktrace": "Traceback (most recent call last):\n  ..."}})  # fmt: skip
            n += 1
        recs.append({"v": 1, "kind": "event", "id": span, "session_id": sid, "parent_id": None,
                     "type": "step", "name": f"turn {turn}", "ts": _iso(t),
                     "end_ts": _iso(t + 600 * ms), "duration_ms": 600.0, "status": "ok",
                     "data": {}})  # fmt: skip
        n += 1
        recs.append({"v": 1, "kind": "message", "id": _id(t + 590 * ms, 10), "session_id": sid,
                     "ts": _iso(t + 590 * ms), "role": "assistant", "format": "openai",
                     "blob": {"role": "assistant", "content": f"done with turn {turn}"}})  # fmt: skip
        t += 700 * ms
    recs.append({"v": 1, "kind": "session", "id": sid, "status": "success", "ended_at": _iso(t)})
    return recs


def many_sessions(n: int, now: datetime) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for i in range(n):
        start = now - timedelta(seconds=i * 5)
        batch.append({"v": 1, "kind": "session", "id": _id(start, i), "name": f"Ticket {i}",
                      "user": f"user{i % 100}",
                      "configs": {"agent": f"bot{i % 10}", "env": ["prod", "staging"][i % 2],
                                  "version": i % 7, "team": {"region": ["eu", "us"][i % 2]}},
                      "status": "success" if i % 9 else "error", "started_at": _iso(start),
                      "ended_at": _iso(start + timedelta(milliseconds=200 + (i * 37) % 60_000))})  # fmt: skip
        if len(batch) == 5000:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def ui_server(db: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "agentlog.cli", "ui", "--db", db, "--port",
                             str(port)], stdout=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/", trust_env=False).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("agentlog ui did not start")
        time.sleep(0.05)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def server_ms(client: httpx.Client, path: str, params: dict[str, Any]) -> float:
    client.get(path, params=params).raise_for_status()  # warm-up
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        r = client.get(path, params=params)
        times.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    return statistics.median(times)


def browser_figures(url: str, sid: str) -> tuple[float, float, float, int]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.add_init_script("""
            window.__longTasks = [];
            new PerformanceObserver((list) => {
              for (const e of list.getEntries()) window.__longTasks.push(e.duration);
            }).observe({ type: "longtask", buffered: true });
        """)
        page.goto(url + "/#/sessions")  # warm the asset cache, as a user arriving from the list
        page.wait_for_selector("table.sessions tbody tr")
        # A full page load of the session; times from the browser's own navigation start.
        page.goto(f"{url}/#/session/{sid}")
        page.reload()
        page.wait_for_function("() => document.querySelector('ol.waterfall li.row')",
                               polling="raf")  # fmt: skip
        rendered, interactive = page.evaluate("""() => {
            const rendered = performance.now();
            document.querySelector("ol.waterfall li.row[data-type=error]").click();
            if (!document.querySelector("aside.detail .error-box")) throw new Error("no detail");
            return [rendered, performance.now()];
        }""")
        page.evaluate("window.__longTasks = []")
        # Scroll to the end, STEP px per animation frame (a fast fling: ~24,000 px/s at
        # 60 frames/s), pages loading on the way.
        page.evaluate(
            """async (step) => {
            const list = document.querySelector(".timeline .scroller");
            const frame = () => new Promise((r) => requestAnimationFrame(r));
            const end = performance.now() + 600000;
            while (performance.now() < end) {
                list.scrollTop += step;
                await frame();
                const more = document.querySelector(".load-more");
                if (more.hidden && list.scrollTop + list.clientHeight >= list.scrollHeight - 2) break;
            }
        }""",
            SCROLL_STEP,
        )
        items = int(page.inner_text(".timeline .status-line").split(" of ")[0].replace(",", ""))
        tasks = page.evaluate("window.__longTasks") or [0.0]
        print(f"[chromium] long tasks (> 50 ms) while scrolling: {len(tasks)}; the longest: "
              f"{sorted(round(x) for x in tasks)[-5:]} ms")  # fmt: skip
        longest = max(tasks)
        browser.close()
    return rendered, interactive, longest, items


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sessions", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = ap.parse_args()
    size = sum(p.stat().st_size for p in STATIC.rglob("*") if p.is_file())
    print(
        f"UI assets: {size / 1024:.1f} KB uncompressed (target <= 300 KB): {verdict(size <= 300 * 1024)}"
    )
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            schema = None
            if backend == "sqlite":
                db = str(Path(tmp) / "ui-bench.db")
            else:
                try:
                    import psycopg

                    schema = f"agentlog_uibench_{uuid.uuid4().hex[:8]}"
                    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as c:
                        c.execute(f'CREATE SCHEMA "{schema}"')
                except Exception as exc:
                    print(f"postgres: skipped ({exc})")
                    continue
                db = f"{PG_URL}?options=-csearch_path%3D{schema}"
            store = open_store(db, processing=False)
            sid = _id(now - timedelta(hours=3), 77)
            t0 = time.perf_counter()
            recs = long_session(sid, now - timedelta(hours=3), args.events)
            for i in range(0, len(recs), 5000):
                assert not store.ingest(recs[i : i + 5000]).rejected
            events = sum(r["kind"] == "event" for r in recs)
            errors = sum(r.get("type") == "error" for r in recs)
            for batch in many_sessions(args.sessions, now - timedelta(hours=4)):
                assert not store.ingest(batch).rejected
            if schema is not None:  # fresh statistics, as autovacuum keeps them
                with store._tx(write=True) as conn:  # type: ignore[attr-defined]
                    conn.run("ANALYZE")
            store.close()
            print(
                f"[{backend}] data: a session of {events} events ({errors} errors, "
                f"{len(recs) - events - 2} messages) and {args.sessions} sessions with configs "
                f"({time.perf_counter() - t0:.1f} s to load)"
            )
            with ui_server(db) as url, httpx.Client(base_url=url, trust_env=False) as client:
                first = server_ms(
                    client, "/v1/query/iterate_events", {"session_id": sid, "limit": 500}
                )
                head = server_ms(client, f"/v1/explore/sessions/{sid}", {})
                print(
                    f"[{backend}] first timeline page (500 items): {first:.1f} ms; session "
                    f"header: {head:.1f} ms (target <= 300 ms): {verdict(first + head <= 300)}"
                )
                filters = {
                    "user + configs": {"user": "user7", "configs": '{"agent": "bot7"}'},
                    "nested configs": {"configs": '{"team": {"region": "eu"}, "version": 3}'},
                    "name substring": {"name": "ticket 4242"},
                    "status, by duration": {"status": "error", "sort": "duration"},
                }
                for label, params in filters.items():
                    ms = server_ms(client, "/v1/explore/sessions", {**params, "limit": 50})
                    print(
                        f"[{backend}] sessions page, {label}: {ms:.1f} ms "
                        f"(target <= 200 ms): {verdict(ms <= 200)}"
                    )
                if backend == "sqlite" and Path(CHROMIUM).exists():
                    rendered, interactive, longest, items = browser_figures(url, sid)
                    print(
                        f"[chromium] long session rendered in {rendered:.0f} ms, interactive "
                        f"(an error's detail open) at {interactive:.0f} ms (target <= 1500 ms): "
                        f"{verdict(interactive <= 1500)}"
                    )
                    print(
                        f"[chromium] scrolled through {items} items at {SCROLL_STEP} px a frame: longest task "
                        f"{longest:.0f} ms (target <= 100 ms): {verdict(longest <= 100)}"
                    )
            if schema is not None:
                import psycopg

                with psycopg.connect(PG_URL, autocommit=True) as c:
                    c.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
