"""The UI's server side without a browser: login cookie, cross-site refusals, headers, the
read-only ``agentlog ui`` app, its proxy to a collector, its command line, and the assets."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agentlog.cli import main
from agentlog.collector import KeyRing, create_app
from agentlog.store import Store, open_store
from agentlog.ui._app import create_ui_app
from agentlog.ui._pages import STATIC, key_matcher

from ..collector.conftest import KEY_A, KEY_B, KEYS
from ..collector.servers import ThreadServer, wait_for

SAME = {"Origin": "http://testserver"}
EVIL = {"Origin": "http://evil.example"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "ui.db", processing=False)
    s.create_session(id="sa", name="in a", project="a")
    s.create_session(id="sb", name="in b", project="b")
    yield s
    s.close()


@pytest.fixture
def serve(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(store, keys=KeyRing(env=KEYS)), follow_redirects=False) as c:
        yield c


def _login(client: TestClient, key: str, headers: dict[str, str] = SAME) -> object:
    return client.post("/ui/login", data={"key": key}, headers=headers)


def test_serve_asks_for_a_key_and_keeps_it_in_a_strict_httponly_cookie(serve: TestClient) -> None:
    first = serve.get("/")
    assert first.status_code == 303 and first.headers["location"] == "/ui/login"
    assert serve.get("/ui/login").status_code == 200
    bad = _login(serve, "not-a-key-at-all")
    assert bad.status_code == 401 and "set-cookie" not in bad.headers  # type: ignore[attr-defined]
    ok = _login(serve, KEY_A)
    cookie = ok.headers["set-cookie"]  # type: ignore[attr-defined]
    assert ok.status_code == 303 and ok.headers["location"] == "/"  # type: ignore[attr-defined]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert KEY_A not in ok.headers["location"]  # type: ignore[attr-defined]
    assert serve.get("/").status_code == 200
    names = [s["name"] for s in serve.get("/v1/explore/sessions").json()["items"]]
    assert names == ["in a"]  # project a only
    assert serve.get("/v1/sessions/sb").status_code == 404
    out = serve.post("/ui/logout", headers=SAME)
    assert out.status_code == 303 and serve.get("/v1/explore/sessions").status_code == 401


def test_another_projects_key_sees_only_its_project(serve: TestClient) -> None:
    _login(serve, KEY_B)
    assert [s["id"] for s in serve.get("/v1/explore/sessions").json()["items"]] == ["sb"]


def test_cross_site_requests_with_the_cookie_are_refused(serve: TestClient) -> None:
    assert _login(serve, KEY_A, EVIL).status_code == 403  # type: ignore[attr-defined]
    assert _login(serve, KEY_A, {"Sec-Fetch-Site": "cross-site"}).status_code == 403  # type: ignore[attr-defined]
    _login(serve, KEY_A)
    write = {"name": "forged"}
    assert serve.post("/v1/sessions", json=write, headers=EVIL).status_code == 403
    assert serve.post("/v1/sessions", json=write).status_code == 403  # no Origin at all
    assert serve.post("/ui/logout", headers=EVIL).status_code == 403
    assert serve.post("/v1/sessions", json=write, headers=SAME).status_code == 200
    # API clients with a bearer key are not browsers: no Origin needed.
    serve.cookies.clear()
    bearer = {"Authorization": f"Bearer {KEY_A}"}
    assert serve.post("/v1/sessions", json=write, headers=bearer).status_code == 200


def test_every_response_carries_the_content_security_policy(serve: TestClient) -> None:
    _login(serve, KEY_A)
    for path in ("/", "/ui/login", "/docs", "/ui/static/js/main.js", "/ui/static/app.css",
                 "/v1/explore/sessions", "/openapi.json", "/nowhere"):  # fmt: skip
        csp = serve.get(path).headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
    assert serve.get("/ui/static/js/main.js").headers["x-content-type-options"] == "nosniff"


def test_docs_work_offline(serve: TestClient) -> None:
    page = serve.get("/docs")
    assert page.status_code == 200
    assert re.findall(r'(?:src|href)="([^"]+)"', page.text) and all(
        u.startswith("/") for u in re.findall(r'(?:src|href)="([^"]+)"', page.text))  # fmt: skip
    assert serve.get("/redoc").headers["location"] == "/docs"
    assert "/v1/explore/sessions" in serve.get("/openapi.json").json()["paths"]


def test_the_assets_are_small_self_contained_and_have_no_inline_script() -> None:
    files = [p for p in STATIC.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    assert total <= 300 * 1024, f"UI assets are {total} bytes"
    for p in files:
        text = p.read_text("utf-8")
        hosts = set(re.findall(r"https?://([^/\"'\s)]+)", text)) - {"www.w3.org"}
        assert not hosts, f"{p.name} names {hosts}"
        if p.suffix == ".html":
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"inline script in {p.name}"
            assert not re.search(r"\son[a-z]+=", text), f"inline handler in {p.name}"
        if p.suffix == ".js":
            assert "innerHTML" not in text and "insertAdjacentHTML" not in text, p.name
            assert "eval(" not in text and "new Function" not in text, p.name


def test_agentlog_ui_is_read_only_and_answers_only_loopback_names(store: Store) -> None:
    app = create_ui_app(store=store, project="a")
    with TestClient(app, base_url="http://127.0.0.1:8030") as c:
        assert [s["id"] for s in c.get("/v1/explore/sessions").json()["items"]] == ["sa"]
        assert c.post("/v1/sessions", json={}).status_code == 405
        assert c.delete("/v1/sessions/sa").status_code == 405
        assert c.get("/", headers={"Host": "rebound.example:8030"}).status_code == 421
        assert c.get("/", headers={"Host": "localhost:8030"}).status_code == 200
        assert "content-security-policy" in c.get("/").headers


def test_agentlog_ui_with_a_key_asks_browsers_to_sign_in(store: Store) -> None:
    app = create_ui_app(store=store, project="a", check_key=key_matcher("ui-key-123456", "a"),
                        hosts=None)  # fmt: skip
    with TestClient(app, follow_redirects=False) as c:
        assert c.get("/").status_code == 303
        assert c.get("/v1/explore/sessions").status_code == 401
        assert _login(c, "wrong-key-123").status_code == 401  # type: ignore[attr-defined]
        assert _login(c, "ui-key-123456").status_code == 303  # type: ignore[attr-defined]
        assert c.get("/v1/explore/sessions").status_code == 200


def test_agentlog_ui_over_a_collector_forwards_reads_with_its_key(store: Store) -> None:
    with ThreadServer(create_app(store, keys=KeyRing(env=KEYS))) as collector:
        app = create_ui_app(url=collector.url, api_key=KEY_A)
        with TestClient(app, base_url="http://127.0.0.1") as c:
            page = c.get("/v1/explore/sessions")
            assert [s["id"] for s in page.json()["items"]] == ["sa"]
            assert KEY_A not in page.text
            assert c.get("/v1/sessions/sb").status_code == 404
            assert c.post("/v1/sessions", json={}).status_code == 405
            assert "/v1/explore/events" in c.get("/openapi.json").json()["paths"]


def test_agentlog_ui_refuses_a_public_address_without_a_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ui", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "not a loopback address" in err and "--api-key" in err
    assert main(["ui", "--url", "http://127.0.0.1:1", "--db", "x.db"]) == 2


def test_agentlog_ui_prints_its_url_and_serves(tmp_path: Path) -> None:
    log = tmp_path / "ui.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "agentlog.cli", "ui", "--port", "0"],
                                cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_for(lambda: "agentlog ui: http://" in log.read_text() or proc.poll() is not None,
                 what="the URL")  # fmt: skip
        url = re.search(r"http://127\.0\.0\.1:\d+/", log.read_text())
        assert url, log.read_text()
        import httpx

        assert httpx.get(url.group(0), trust_env=False).status_code == 200
    finally:
        proc.terminate()
        proc.wait(10.0)
    # The local default: the store and the JSONL file of ./.agentlog, as Client() reads.
    assert (tmp_path / ".agentlog" / "agentlog.db").exists()


def test_the_demo_prints_an_agentlog_ui_command_that_shows_its_session(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    demo = subprocess.run([sys.executable, str(root / "examples" / "quickstart.py")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    last = demo.stdout.strip().splitlines()[-1].split()
    assert Path(last[0]).name == "agentlog" and last[1:] == ["ui"], demo.stdout
    log = tmp_path / "ui.log"
    with open(log, "wb") as out:  # the printed command, on a free port
        proc = subprocess.Popen([*last, "--port", "0"], cwd=tmp_path, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_for(lambda: "agentlog ui: http://" in log.read_text() or proc.poll() is not None,
                 what="the URL")  # fmt: skip
        url = re.search(r"http://127\.0\.0\.1:\d+/", log.read_text())
        assert url, log.read_text()
        import httpx

        def listed() -> bool:
            page = httpx.get(url.group(0) + "v1/explore/sessions", trust_env=False).json()
            return [s["name"] for s in page["items"]] == ["Support - Password Reset"]

        wait_for(listed, what="the demo's session")
    finally:
        proc.terminate()
        proc.wait(10.0)
