"""POSTs to one URL over kept-alive connections, on the standard library's ``http.client``.

The ingest exporter sends from the host's process, so what a request costs there is the
host's CPU: with httpx a batch of 512 records took 1.3-1.4 ms of it, now 0.8 (0.5 against
0.2-0.26 ms for one record; ``benchmarks/http_send.py``, the body's gzip, ~0.35 ms of 512
records, in both): ~1 µs an event, a third of what recording the event costs. The one thing
sent here is a POST of a finished body to one collector, so the rest of httpx has nothing to
do.

What httpx did for this client, this does too: connections kept alive and reused (at most
``_IDLE`` waiting), one dropped by the server while idle found before reuse (readable: its
end came) or, when the drop races the request, the request sent once more on a new
connection (ingest is idempotent by record id); a timeout per step (connect, each send, each
read); proxies from the environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``,
``NO_PROXY``, in either case; HTTPS through an HTTP proxy's ``CONNECT``); certificates checked
against ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set, else certifi's bundle, else the system's.
"""

from __future__ import annotations

import base64
import http.client
import os
import select
import socket
import ssl
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

import orjson

from .._log import warn_once

__all__ = ["Answer", "Origin", "WireError"]

_IDLE = 2  # connections kept open between requests
_PORTS = {"http": 80, "https": 443}
# What a kept-alive connection shows when the server closed it while the request was on its
# way: sending it once more on a new connection is safe.
_DROPPED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
            ConnectionAbortedError)  # fmt: skip


class WireError(Exception):
    """The request got no answer: connecting, sending or reading failed or timed out, or the
    answer was not HTTP. The message names the cause (``TimeoutError: timed out``);
    ``dropped``: the server closed the connection under the request."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.dropped = isinstance(cause, _DROPPED)


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    headers: Message
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: its end (the server closed it) or
    bytes it should not have sent; either way not one to send a request on."""
    try:
        if hasattr(select, "poll"):  # no descriptor-number bound, unlike select()
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _tls_context() -> ssl.SSLContext:
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = os.environ.get("SSL_CERT_DIR") or None
    if cafile is None and capath is None:
        try:
            import certifi
        except ImportError:  # the system's certificates
            return ssl.create_default_context()
        cafile = certifi.where()
    return ssl.create_default_context(cafile=cafile, capath=capath)


def _proxy(scheme: str, host: str) -> SplitResult | None:
    """The proxy the environment names for ``scheme``://``host``, or None (none, or
    ``NO_PROXY`` covers the host)."""
    proxies = urllib.request.getproxies_environment()
    url = proxies.get(scheme) or proxies.get("all")
    # proxy_bypass_environment: NO_PROXY as urllib reads it (public, if not in the stubs)
    if not url or urllib.request.proxy_bypass_environment(host, proxies):  # type: ignore[attr-defined]
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        warn_once(f"wire-proxy:{parts.scheme}", "agentlog: proxy %s is not an http:// proxy, "
                  "which is all the exporter speaks; connecting directly", url, exc_info=False)  # fmt: skip
        return None
    return parts


class Origin:
    """POSTs to one URL. Thread-safe: each request takes a connection of its own."""

    def __init__(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> None:
        parts = urlsplit(url)
        if parts.scheme not in _PORTS or not parts.hostname:
            raise ValueError(f"endpoint must be an http:// or https:// URL, got {url!r}")
        self.timeout = timeout
        self._tls = parts.scheme == "https"
        self._context = _tls_context() if self._tls else None
        host, port = parts.hostname, parts.port or _PORTS[parts.scheme]
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = dict(headers)
        self._at, self._tunnel = (host, port), None
        proxy = _proxy(parts.scheme, host)
        if proxy is not None:
            assert proxy.hostname is not None  # checked by _proxy
            self._at = (proxy.hostname, proxy.port or 80)
            auth = {}
            if proxy.username is not None:
                pair = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}"
                auth["Proxy-Authorization"] = f"Basic {base64.b64encode(pair.encode()).decode()}"
            if self._tls:  # a tunnel through the proxy, TLS end to end
                self._tunnel = (host, port, auth)
            else:  # the proxy forwards the request: it names the whole URL
                self._target = url
                self._headers.update(auth)
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def post(self, body: bytes) -> Answer:
        conn, reused = self._take()
        try:
            return self._exchange(conn, body)
        except WireError as exc:
            if not (reused and exc.dropped):
                raise
        # The server closed this kept-alive connection as the request went out: once more.
        return self._exchange(self._new(), body)

    def close(self) -> None:
        """Close the idle connections (one in use is closed by its request once done)."""
        with self._lock:
            self.forget()

    def forget(self) -> None:
        """``close`` without the lock: in a forked child, which lets go of the parent's idle
        connections this way (closing this process's descriptors only; the parent's stay
        open), a thread of the parent may have held the lock at the fork."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _exchange(self, conn: http.client.HTTPConnection, body: bytes) -> Answer:
        try:
            conn.request("POST", self._target, body=body, headers=self._headers)
            response = conn.getresponse()
            answer = Answer(response.status, response.reason, response.headers, response.read())
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise WireError(exc) from exc
        except BaseException:
            conn.close()
            raise
        self._give_back(conn, keep=not response.will_close)
        return answer

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection still open, or a new one; and whether it is one reused."""
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._new(), False
            if conn.sock is not None and not _readable(conn.sock):
                return conn, True
            conn.close()

    def _give_back(self, conn: http.client.HTTPConnection, *, keep: bool) -> None:
        if keep:
            with self._lock:
                if len(self._idle) < _IDLE:
                    self._idle.append(conn)
                    return
        conn.close()

    def _new(self) -> http.client.HTTPConnection:
        host, port = self._at
        conn: http.client.HTTPConnection
        if self._tls:
            conn = http.client.HTTPSConnection(host, port, timeout=self.timeout,
                                               context=self._context)  # fmt: skip
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        if self._tunnel is not None:
            conn.set_tunnel(*self._tunnel)
        return conn
