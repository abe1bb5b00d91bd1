"""``create_app()``: the collector, a FastAPI app over one Store.

The app keeps no state of its own beyond the store's connections: every request is answered
from the store, so several collectors can serve one PostgreSQL database behind a load balancer.
The store's background processing (rollups, idle TTL, auto-close) runs for the app's lifetime.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from .. import __version__
from .._log import log
from ..store import IngestResult, Store, open_store
from ..store._split import ReadReplicaStore
from ..ui._pages import mount_ui
from ..ui._security import SecurityHeaders
from ._errors import ERROR_RESPONSES, error_response, install_error_handlers
from ._explore import router as explore_router
from ._gate import Gate
from ._ingest import IngestLimits, ingest_records, parse_batch, read_body
from ._judging_routes import router as judging_router
from ._otlp import router as otlp_router
from ._retention import RetentionWorker
from ._routes import router
from ._writer import GroupWriter
from .auth import KeyRing

__all__ = ["create_app"]

_INGEST_BODY = {
    "required": True,
    "description": "A batch of records (DESIGN §2); send it gzip-compressed with "
    "'Content-Encoding: gzip'. Each record is validated on its own.",
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["records"], "additionalProperties": False,
        "properties": {"records": {"type": "array", "items": {"type": "object"}}},
    }}},
}  # fmt: skip


def create_app(
    db: str | os.PathLike[str] | Store | None = None, *, keys: KeyRing | None = None,
    no_auth: bool = False, limits: IngestLimits | None = None, retention: float | None = None,
    read_db: str | None = None, **store_options: Any,
) -> FastAPI:  # fmt: skip
    """The collector app. ``db`` is a store URL (opened at startup, closed at shutdown, with
    ``store_options`` such as ``auto_close_after``, ``max_turns``, ``ttl_seconds``) or an open
    ``Store`` (left open: its owner closes it). Without ``no_auth``, ``keys`` must hold at least
    one key; requests are then scoped to the project of the key they present. ``retention``
    (seconds) prunes sessions that ended longer ago in the background; ``read_db`` (a store
    URL, e.g. a read replica) serves the reads while writes go to ``db``."""
    if not no_auth and (keys is None or not len(keys)):
        raise ValueError("no API keys: set AGENTLOG_API_KEYS, pass --keys-file, or use --no-auth")
    limits = limits or IngestLimits()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = not isinstance(db, Store)
        store = db if isinstance(db, Store) else open_store(db, **store_options)
        reader = None
        if read_db is not None:
            reader = ReadReplicaStore(store, open_store(read_db, processing=False))
        app.state.store = store if reader is None else reader
        app.state.writer = GroupWriter(store)
        pruner = None if retention is None else RetentionWorker(store, retention).start()
        try:
            yield
        finally:
            if pruner is not None:
                await run_in_threadpool(pruner.stop)
            if reader is not None:
                await run_in_threadpool(reader.close)
            if owned:
                await run_in_threadpool(store.close)

    app = FastAPI(
        title="agentlog collector",
        version=__version__,
        description="Ingest agent timelines; read sessions, events and messages; run the query "
        "primitives. Authenticate with 'Authorization: Bearer <API key>'; every request sees "
        "only the data of its key's project.",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: the offline reference of mount_ui (no CDN)
        redoc_url=None,
    )
    if isinstance(db, Store) and read_db is None:  # usable at once, also without the lifespan
        app.state.store = db
        app.state.writer = GroupWriter(db)
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(otlp_router)
    app.include_router(explore_router)
    mount_ui(app, check_key=None if no_auth or keys is None else keys.project_for)
    app.include_router(judging_router)
    app.state.limits = limits
    inflight = app.state.inflight = [0]  # ingest requests in progress (/v1/traces shares it)
    app.state.no_auth = no_auth

    @app.post("/v1/ingest", response_model=IngestResult, tags=["ingest"],
              openapi_extra={"requestBody": _INGEST_BODY},
              responses={**ERROR_RESPONSES, 413: {**ERROR_RESPONSES[413],
                         "description": "Over a size or record-count limit"},
                         429: {**ERROR_RESPONSES[503],
                               "description": "Too many batches in progress; retry after "
                                              "Retry-After seconds"}})  # fmt: skip
    async def ingest(request: Request) -> Response:
        """Store a batch of records, idempotent by record id. Answers 200 with the ids accepted
        and, for each record rejected, its index, id and the reason; the accepted ones are
        durable when this answers. Answers 429 while ``max_inflight`` batches are in progress:
        each may hold up to ``max_decoded_bytes`` in memory, so the bound is on memory too."""
        if inflight[0] >= limits.max_inflight:
            return error_response(429, f"{limits.max_inflight} batches are being ingested; "
                                  "retry later", headers={"Retry-After": "1"})  # fmt: skip
        inflight[0] += 1  # one event loop: no lock needed
        try:
            body = await read_body(request.stream(), limits=limits,
                                   encoding=request.headers.get("content-encoding", ""),
                                   content_length=request.headers.get("content-length"))  # fmt: skip
            records = parse_batch(body, limits=limits)
            result = await ingest_records(
                request.app.state.writer, body, records, project=request.state.project
            )
        finally:
            inflight[0] -= 1
        return Response(orjson.dumps(result.model_dump(mode="json")),
                        media_type="application/json")  # fmt: skip

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> Response:
        """The store answers queries."""
        store: Store = request.app.state.store
        try:
            await run_in_threadpool(store.list_sessions, limit=1, project="-readyz-")
        except Exception as exc:
            log.warning("agentlog collector: not ready: %s", exc)
            return error_response(503, f"store not ready: {type(exc).__name__}",
                                  headers={"Retry-After": "1"})  # fmt: skip
        return Response(orjson.dumps({"status": "ready"}), media_type="application/json")

    app.add_middleware(Gate, keys=None if no_auth else keys,
                       max_body_bytes=limits.max_body_bytes)  # fmt: skip
    app.add_middleware(SecurityHeaders)
    return app
