"""``mount_ui(app)``: the UI's pages on an app that serves the collector's API.

``/`` is the single-page UI (client-side routes live in the URL fragment), ``/ui/static/``
its files, ``/ui/login`` and ``/ui/logout`` the key cookie, ``/docs`` the API reference. With
``check_key`` set, ``/`` sends a browser without a valid key cookie to the login form; the
API itself is guarded by the app's gate, which accepts the same cookie.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

from ._security import COOKIE, same_origin

__all__ = ["STATIC", "KeyCheck", "key_matcher", "mount_ui"]

STATIC = Path(__file__).parent / "static"
KeyCheck = Callable[[str], "str | None"]  # key -> its project, or None when not valid
_NO_STORE = {"Cache-Control": "no-store"}
_MAX_FORM = 4096

_LOGIN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>agentlog: sign in</title><link rel="stylesheet" href="/ui/static/app.css">
<link rel="icon" href="/ui/static/favicon.svg" type="image/svg+xml"></head>
<body class="login"><main>
<h1><span class="logo" aria-hidden="true"></span> agentlog</h1>
<form method="post" action="/ui/login">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
{error}<button type="submit">Sign in</button>
<p class="hint">The key is kept in a cookie that scripts cannot read; it shows the sessions of
the key's project only.</p>
</form></main></body></html>
"""


def _login_page(error: str = "", status: int = 200) -> HTMLResponse:
    shown = f'<p class="error" role="alert">{error}</p>' if error else ""
    return HTMLResponse(_LOGIN.format(error=shown), status_code=status, headers=_NO_STORE)


def key_matcher(key: str, project: str) -> KeyCheck:
    """A check for one key (``agentlog ui --api-key``), in constant time."""

    def check(given: str) -> str | None:
        return project if hmac.compare_digest(given.encode(), key.encode()) else None

    return check


def mount_ui(app: FastAPI, *, check_key: KeyCheck | None) -> None:
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")

    def signed_in(request: Request) -> bool:
        if check_key is None:
            return True
        value = request.cookies.get(COOKIE)
        return bool(value) and check_key(value or "") is not None

    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> Response:
        if not signed_in(request):
            return RedirectResponse("/ui/login", status_code=303, headers=_NO_STORE)
        return FileResponse(STATIC / "index.html", headers=_NO_STORE)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return FileResponse(STATIC / "docs.html")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> Response:
        return RedirectResponse("/docs", status_code=308)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.get("/ui/login", include_in_schema=False)
    async def login_form(request: Request) -> Response:
        if check_key is None or signed_in(request):
            return RedirectResponse("/", status_code=303)
        return _login_page()

    @app.post("/ui/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        if check_key is None:
            return RedirectResponse("/", status_code=303)
        if not same_origin(request.scope):  # no login from another site's form
            return _login_page("This form must be sent from this server's own page.", 403)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > _MAX_FORM:
                return _login_page("The form is too large.", 413)
        values = parse_qs(body.decode("utf-8", "replace")).get("key") or [""]
        key = values[0].strip()
        if not key or check_key(key) is None:
            return _login_page("That key is not valid here.", 401)
        response = RedirectResponse("/", status_code=303, headers=_NO_STORE)
        response.set_cookie(COOKIE, key, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")  # fmt: skip
        return response

    @app.post("/ui/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        if not same_origin(request.scope):
            return Response("cross-site request refused", status_code=403)
        response = RedirectResponse("/ui/login" if check_key else "/", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response
