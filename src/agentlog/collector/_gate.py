"""The collector's front door: authentication and the request body limit, before any routing.

It runs ahead of FastAPI's body parsing, so a request without a valid key is answered 401
whatever its body holds, and an oversized body is refused before it is read into memory.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..ui._security import SAFE_METHODS, cookie_value, same_origin
from ..ui._security import header as _header
from ._errors import ApiError, error_response
from .auth import KeyRing

__all__ = ["MISSING_KEY", "Gate"]

# Said in the words of each way in, so nobody has to translate the HTTP header to their tool.
MISSING_KEY = (
    "a valid API key is required: the agentlog command takes --api-key KEY or "
    "$AGENTLOG_API_KEY; Python takes agentlog.init(api_key=...) or "
    "agentlog.Client(api_key=...) (or $AGENTLOG_API_KEY); over HTTP send "
    "'Authorization: Bearer <key>'. 'agentlog keys create --project NAME' makes a key"
)

_OPEN_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect",
                         "/redoc", "/", "/favicon.ico"})  # fmt: skip
_OPEN_PREFIX = "/ui/"  # the web UI's files and its login: its page at / checks the cookie


def is_open(path: str) -> bool:
    return path in _OPEN_PATHS or path.startswith(_OPEN_PREFIX)


class Gate:
    def __init__(self, app: ASGIApp, *, keys: KeyRing | None, max_body_bytes: int) -> None:
        self.app = app
        self.keys = keys  # None: --no-auth, everything in project "default"
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if "\x00" in path or b"%00" in scope.get("query_string", b""):
            # Neither PostgreSQL text nor JSONB can hold NUL: refused alike on every backend.
            await error_response(400, "the URL contains a NUL character (%00)")(
                scope, receive, send)  # fmt: skip
            return
        if not is_open(path):
            project = self._project(scope)
            if project == "":
                await error_response(403, "a request authenticated by the UI's cookie must "
                                     "come from the UI's own origin")(scope, receive, send)  # fmt: skip
                return
            if project is None:
                await error_response(
                    401, MISSING_KEY, headers={"WWW-Authenticate": "Bearer"},
                )(scope, receive, send)  # fmt: skip
                return
            scope.setdefault("state", {})["project"] = project
        if path != "/v1/ingest":  # ingest applies its own limits, compressed and decoded
            length = _header(scope, b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                await error_response(413, f"body: over the limit of {self.max_body_bytes} bytes",
                                     limit=self.max_body_bytes)(scope, receive, send)  # fmt: skip
                return
            receive = self._bounded(receive)
        await self.app(scope, receive, send)

    def _project(self, scope: Scope) -> str | None:
        """The caller's project; None without a valid key, "" for a cross-site request that
        the browser authenticated with the UI's cookie."""
        if self.keys is None:
            return "default"
        auth = _header(scope, b"authorization")
        if auth is None:
            key = cookie_value(scope)  # the web UI: the key in its HttpOnly cookie
            if key is None:
                return None
            if scope.get("method", "GET") not in SAFE_METHODS and not same_origin(scope):
                return ""
            return self.keys.project_for(key)
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        return self.keys.project_for(token)

    def _bounded(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.max_body_bytes

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise ApiError(413, "payload_too_large",
                                   f"body: over the limit of {limit} bytes", limit=limit)  # fmt: skip
            return message

        return wrapped
