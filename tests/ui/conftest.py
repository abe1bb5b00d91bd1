"""The UI in a real Chromium (Debian's, driven by Playwright) against real servers.

Every browser test runs twice: against ``agentlog ui`` over SQLite (a subprocess that also
indexes a JSONL file, where new records are appended) and against ``agentlog serve`` over
PostgreSQL with a key (the browser signs in; new records go through ``/v1/ingest``). Both hold
the same 500 generated sessions. Each page records every request, dialog and console error, and
the test fails if any request left the origin, any dialog opened or the console showed an error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from ..collector.conftest import KEY_A, KEYS, PG_URL, require_postgres
from ..collector.servers import Collector, free_port, wait_for
from .data import Generated, generate

CHROMIUM = os.environ.get("AGENTLOG_TEST_CHROMIUM", "/usr/bin/chromium")


def require_browser() -> Any:
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"no Chromium at {CHROMIUM}: run 'make browser' (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "playwright is not installed (pip install -e '.[dev]')"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    return sync_playwright


@dataclass
class Target:
    """A running UI server with the generated data."""

    kind: str
    url: str
    data: Generated
    record: Callable[[list[dict[str, Any]]], None]
    key: str | None = None
    procs: list[Any] = field(default_factory=list)


def _ui_process(db: Path, jsonl: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    out = open(log, "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentlog.cli", "ui", "--db", str(db), "--jsonl", str(jsonl),
         "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out.close()
    url = f"http://127.0.0.1:{port}"
    probe = httpx.Client(timeout=1.0, trust_env=False)

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"agentlog ui exited: {log.read_text()[-2000:]}")
        try:
            return probe.get(url + "/").status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, what="agentlog ui to answer")
    probe.close()
    return proc, url


@pytest.fixture(scope="session")
def ui_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    from agentlog.store import open_store

    work = tmp_path_factory.mktemp("ui-sqlite")
    data = generate(500)
    store = open_store(work / "agentlog.db", processing=False)
    assert not store.ingest(data.records).rejected
    store.close()
    jsonl = work / "events.jsonl"
    jsonl.write_bytes(b"")
    proc, url = _ui_process(work / "agentlog.db", jsonl, work / "ui.log")

    def record(records: list[dict[str, Any]]) -> None:
        with open(jsonl, "ab") as f:
            f.write(b"".join(orjson.dumps(r) + b"\n" for r in records))

    try:
        yield Target("ui-sqlite", url, data, record)
    finally:
        proc.terminate()
        proc.wait(10.0)


@pytest.fixture(scope="session")
def serve_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    require_postgres()
    import psycopg

    schema = f"agentlog_ui_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    work = tmp_path_factory.mktemp("ui-postgres")
    collector = Collector(f"{PG_URL}?options=-csearch_path%3D{schema}", keys=KEYS,
                          log=work / "serve.log")  # fmt: skip
    collector.start()
    http = httpx.Client(base_url=collector.url, headers={"Authorization": f"Bearer {KEY_A}"},
                        timeout=30.0, trust_env=False)  # fmt: skip

    def record(records: list[dict[str, Any]]) -> None:
        response = http.post("/v1/ingest", json={"records": records})
        assert response.status_code == 200 and not response.json()["rejected"], response.text

    data = generate(500)
    record(data.records)
    try:
        yield Target("serve-postgres", collector.url, data, record, key=KEY_A)
    finally:
        http.close()
        collector.stop()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["ui-sqlite", "serve-postgres"])
def target(request: pytest.FixtureRequest) -> Target:
    name = "ui_target" if request.param == "ui-sqlite" else "serve_target"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


# Module scope, not session: while Playwright's sync API is open it keeps an asyncio loop
# running on the main thread, and every async test after it (pytest-asyncio) would fail with
# "Runner.run() cannot be called from a running event loop".
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = require_browser()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@dataclass
class Watched:
    page: Any
    origin: str
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def sign_in(page: Any, target: Target) -> None:
    page.goto(target.url + "/")
    if target.key is not None:
        page.wait_for_url("**/ui/login")
        page.fill("#key", target.key)
        page.click("button[type=submit]")
    page.wait_for_selector("table.sessions tbody tr")


@pytest.fixture
def watched(browser: Any, target: Target) -> Iterator[Watched]:
    """A fresh browser context signed in to the target; checked for leaks when done."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    w = Watched(page, target.url)
    page.on("request", lambda r: w.requests.append(r.url))
    page.on("dialog", lambda d: (w.dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: w.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: w.errors.append(str(e)))
    sign_in(page, target)
    try:
        yield w
    finally:
        context.close()
    outside = [u for u in w.requests if not u.startswith(target.url + "/")]
    assert outside == [], f"requests outside the origin: {outside[:5]}"
    assert w.dialogs == [], f"dialogs opened: {w.dialogs}"
    assert w.errors == [], f"console errors: {w.errors[:5]}"
