"""``create_ui_app``: what ``agentlog ui`` serves, over a store or in front of a collector.

Over a store it answers the collector's read API (the same routes, the same models) for one
project, indexing the local JSONL file as it grows; in front of a collector it forwards the
API's GET requests with the collector key, which never reaches the browser. Either way the
API is read-only here. Without a login key (the loopback default) it answers only requests
addressed to a loopback name, so a web page cannot reach it through DNS rebinding.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from .._log import log
from .._signals import quiet_thread
from ..collector._errors import error_response, install_error_handlers
from ..collector._explore import router as explore_router
from ..collector._routes import router as api_router
from ..store import Store
from ._pages import KeyCheck, mount_ui
from ._security import SAFE_METHODS, SecurityHeaders, cookie_value, header

__all__ = ["LOOPBACK_NAMES", "create_ui_app"]

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_REFRESH = 0.5  # seconds between looks at the JSONL file


class UiGate:
    """Scopes every request to the project, keeps the API read-only, checks key and Host."""

    def __init__(self, app: ASGIApp, *, project: str, check_key: KeyCheck | None,
                 hosts: frozenset[str] | None) -> None:  # fmt: skip
        self.app = app
        self.project = project
        self.check_key = check_key
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.hosts is not None:
            host = (header(scope, b"host") or "").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.hosts:
                await error_response(421, f"this UI answers only at {sorted(self.hosts)[0]}; "
                                     "use a key to serve it under another name")(scope, receive, send)  # fmt: skip
                return
        path: str = scope["path"]
        if path.startswith("/v1/"):
            if scope["method"] not in SAFE_METHODS:
                await error_response(405, "agentlog ui is read-only")(scope, receive, send)
                return
            if self.check_key is not None:
                auth = header(scope, b"authorization") or ""
                key = (
                    auth[7:].strip() if auth.lower().startswith("bearer ") else cookie_value(scope)
                )
                if not key or self.check_key(key) is None:
                    await error_response(401, "sign in with the UI's key first",
                                         headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)  # fmt: skip
                    return
        scope.setdefault("state", {})["project"] = self.project
        await self.app(scope, receive, send)


def _indexer(
    store: Store, jsonl: str | os.PathLike[str], project: str
) -> tuple[threading.Thread, threading.Event]:
    from ..client import LocalTransport

    transport = LocalTransport(store, project=project, jsonl=jsonl)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                transport.refresh()
            except Exception as exc:  # a broken line or a locked file: try again next time
                log.warning("agentlog ui: cannot index %s: %s", jsonl, exc)
            stop.wait(_REFRESH)

    thread = quiet_thread(target=run, name="agentlog-ui-index", daemon=True)
    return thread, stop


def create_ui_app(
    *, store: Store | None = None, url: str | None = None, api_key: str | None = None,
    project: str = "default", jsonl: str | os.PathLike[str] | None = None,
    check_key: KeyCheck | None = None, hosts: frozenset[str] | None = LOOPBACK_NAMES,
) -> FastAPI:  # fmt: skip
    """The UI over ``store`` (left open: the caller closes it) or the collector at ``url``.
    ``check_key`` makes browsers sign in; ``hosts`` (None: any) the Host names answered."""
    if (store is None) == (url is None):
        raise ValueError("create_ui_app: give a store or a collector url")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        indexer = None
        if store is not None and jsonl is not None:
            indexer = _indexer(store, jsonl, project)
            indexer[0].start()
        if url is not None:
            import httpx

            headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
            app.state.upstream = httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers,
                                                   timeout=30.0, trust_env=False)  # fmt: skip
        try:
            yield
        finally:
            if indexer is not None:
                indexer[1].set()
                indexer[0].join(5.0)
            if url is not None:
                await app.state.upstream.aclose()

    app = FastAPI(title="agentlog ui", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url="/openapi.json" if url is None else None,
                  description="The read API of agentlog's collector, as the web UI uses it.")  # fmt: skip
    install_error_handlers(app)
    if store is not None:
        app.state.store = store
        app.include_router(api_router)
        app.include_router(explore_router)
    else:
        _proxy(app)
    mount_ui(app, check_key=check_key)
    app.add_middleware(UiGate, project=project, check_key=check_key, hosts=hosts)
    app.add_middleware(SecurityHeaders)
    return app


_PASSED = ("content-type", "retry-after")


def _proxy(app: FastAPI) -> None:
    async def forward(request: Request, path: str) -> Response:
        import httpx

        client: httpx.AsyncClient = request.app.state.upstream
        try:
            upstream = await client.get(path, params=request.url.query or None)
        except httpx.HTTPError as exc:
            return error_response(502, f"the collector did not answer: {type(exc).__name__}")
        headers = {k: v for k, v in upstream.headers.items() if k.lower() in _PASSED}
        return Response(upstream.content, status_code=upstream.status_code, headers=headers)

    @app.get("/v1/{path:path}", include_in_schema=False)
    async def api(request: Request, path: str) -> Response:
        return await forward(request, f"/v1/{path}")

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> Response:
        return await forward(request, "/openapi.json")
