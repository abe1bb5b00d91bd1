"""What keeps the UI safe in a browser: the key cookie, same-origin checks, security headers.

The browser keeps the API key in an HttpOnly, SameSite=Strict cookie: scripts cannot read it
and no other site can make the browser send it. A state-changing request authenticated by the
cookie must also carry an ``Origin`` equal to the server's own, so a cross-site form cannot
act with it. Every response gets a Content-Security-Policy that allows only this origin's own
files and no inline script, so recorded text that slipped into markup could still not run.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "COOKIE",
    "CSP",
    "SAFE_METHODS",
    "SecurityHeaders",
    "cookie_value",
    "header",
    "same_origin",
]

COOKIE = "agentlog_key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")  # fmt: skip
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # Not "no-referrer": with it a browser sends "Origin: null" on the login form.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def header(scope: Scope, name: bytes) -> str | None:
    headers: Any = scope.get("headers") or ()
    for key, value in headers:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def cookie_value(scope: Scope, name: str = COOKIE) -> str | None:
    raw = header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name and value:
            return value
    return None


def same_origin(scope: Scope) -> bool:
    """The browser says the request comes from this server's own pages: ``Sec-Fetch-Site:
    same-origin``, or an ``Origin`` naming this server (scheme, host and port)."""
    site = header(scope, b"sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = header(scope, b"origin")
    host = header(scope, b"host")
    if not origin or not host:
        return False
    scheme = scope.get("scheme", "http")
    return origin.rstrip("/").lower() == f"{scheme}://{host}".lower()


class SecurityHeaders:
    """Adds the CSP and its companions to every HTTP response that does not set them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
