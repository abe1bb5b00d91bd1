"""Every error the collector answers is JSON: ``{"error": {"message", "type", "status", ...}}``.

What a client sent wrong is a 4xx naming it; only a failure of the collector itself is a 5xx
(503 with ``Retry-After`` when the store is unreachable, so exporters retry).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from .._errors import ConflictError, InvalidInputError, NotFoundError
from .._log import log

__all__ = ["ERROR_RESPONSES", "ApiError", "ErrorBody", "error_response", "install_error_handlers"]

_TYPES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
          415: "unsupported_media_type", 422: "invalid_input", 503: "unavailable"}  # fmt: skip


class ErrorDetail(BaseModel):
    message: str = Field(description="What was wrong, naming the field or limit")
    type: str = Field(description="e.g. not_found, invalid_input, payload_too_large")
    status: int
    details: list[dict[str, str]] | None = Field(
        None, description="422: the location (e.g. query.limit) and message of each problem"
    )
    limit: int | None = Field(None, description="413: the limit that was passed")


class ErrorBody(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "Bad input: the message names what was wrong"),
        (401, "No valid API key"),
        (404, "No such id in the key's project"),
        (409, "The id belongs to another project"),
        (413, "The body is over a size limit"),
        (422, "The request does not match this schema"),
        (503, "The store is unavailable; retry after Retry-After seconds"),
    )
}


class ApiError(HTTPException):
    """An error answered as it is. An HTTPException so FastAPI passes it through unchanged
    when it is raised while the request body is read."""

    def __init__(self, status: int, type: str, message: str, **extra: Any) -> None:
        super().__init__(status, message)
        self.status = status
        self.type = type
        self.message = message
        self.extra = extra


def error_response(status: int, message: str, *, type: str | None = None,
                   headers: Mapping[str, str] | None = None, **extra: Any) -> Response:  # fmt: skip
    body = {"error": {"message": message, "type": type or _TYPES.get(status, "error"),
                      "status": status, **extra}}  # fmt: skip
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers=headers)  # fmt: skip


def _loc(loc: tuple[Any, ...]) -> str:
    # ("query", "limit") -> "query.limit"; ("body", "configs", "a") -> "body.configs.a"
    return ".".join(str(x) for x in loc)


def _store_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, (sqlite3.OperationalError, *_pg_unavailable()))


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.message, type=exc.type, **exc.extra)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(exc.status_code, str(exc.detail), headers=exc.headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        details = [{"loc": _loc(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
                   for e in exc.errors()]  # fmt: skip
        message = "; ".join(f"{d['loc']}: {d['message']}" for d in details) or "invalid request"
        return error_response(422, message, details=details)

    async def store_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, NotFoundError):
            return error_response(404, str(exc))
        if isinstance(exc, ConflictError):
            return error_response(409, str(exc))
        if isinstance(exc, InvalidInputError):
            return error_response(400, str(exc))
        if isinstance(exc, UnicodeError):
            return error_response(400, "strings must be valid Unicode (no lone surrogates)")
        if _store_unavailable(exc):
            log.warning("agentlog collector: store unavailable: %s", exc)
            return error_response(503, "the store is unavailable; retry later",
                                  headers={"Retry-After": "1"})  # fmt: skip
        log.error("agentlog collector: internal error on %s %s", request.method,
                  request.url.path, exc_info=exc)  # fmt: skip
        return error_response(500, "internal error")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, store_error)
    # Registered by class so they are answered by the exception middleware (not re-raised to
    # the server as unhandled errors are).
    handled: tuple[type[Exception], ...] = (NotFoundError, ConflictError, InvalidInputError,
                                            UnicodeError, sqlite3.OperationalError)  # fmt: skip
    for cls in (*handled, *_pg_unavailable()):
        app.add_exception_handler(cls, store_error)


def _pg_unavailable() -> tuple[type[Exception], ...]:
    try:
        import psycopg
        import psycopg_pool
    except ImportError:  # pragma: no cover - the postgres extra is not installed
        return ()
    return (psycopg.OperationalError, psycopg_pool.PoolTimeout)
