"""A real HTTP server on 127.0.0.1 whose answers a test scripts: the exporter's wire, unmocked.

The script is a callable that gets each request (method, path, headers, raw body) and returns a
``Reply`` (status, headers, JSON body) or one of two actions instead of an answer: ``DROP``
closes the connection without a word (the client sees a connection error) and ``STALL`` holds
the request unanswered until the server is closed (the client's timeout passes first), then
drops it. A fixed ``Reply`` or action stands for a script that always answers it. Scripts run
one at a time, in the server's request threads; every request is kept, with what it was
answered, in ``requests``.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

__all__ = [
    "DROP",
    "STALL",
    "Action",
    "Answer",
    "Reply",
    "Request",
    "Script",
    "ScriptedServer",
    "Stall",
    "accept_all",
    "in_turn",
]


class Action(Enum):
    DROP = "drop"  # close the connection without answering


DROP = Action.DROP


@dataclass(frozen=True)
class Stall:
    """Answer nothing until ``until`` is set (the server's ``released`` by default, set when it
    closes) or ``limit`` seconds passed, then drop the connection."""

    until: threading.Event | None = None
    limit: float = 5.0


STALL = Stall()


@dataclass(frozen=True)
class Reply:
    status: int = 200
    json: Any = None  # None: an empty body
    headers: dict[str, str] = field(default_factory=dict)


Answer = Reply | Action | Stall


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes  # as it came over the wire (gzipped when Content-Encoding says so)
    at: float  # time.monotonic() once the body was read
    answer: Answer | None = None  # what the script answered

    @property
    def status(self) -> int | None:
        """The status answered; None when the connection was dropped (or not answered yet)."""
        return self.answer.status if isinstance(self.answer, Reply) else None

    def payload(self) -> bytes:
        if self.headers.get("content-encoding") == "gzip":
            return gzip.decompress(self.body)
        return self.body

    def records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = json.loads(self.payload())["records"]
        return records

    def ids(self) -> list[str]:
        return [r["id"] for r in self.records()]


Script = Callable[[Request], Answer] | Answer


def accept_all(request: Request) -> Reply:
    """What a healthy collector answers: every record accepted."""
    return Reply(200, {"accepted": request.ids(), "rejected": []})


def in_turn(*answers: Answer | Callable[[Request], Answer]) -> Callable[[Request], Answer]:
    """Each request gets the next answer; the last one repeats."""
    left = list(answers)

    def script(request: Request) -> Answer:
        step = left.pop(0) if len(left) > 1 else left[0]
        return step(request) if callable(step) else step

    return script


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ScriptedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout) before the answer: not the server's concern


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        cast(_Server, self.server).owner._serve(self)

    do_GET = do_PUT = do_DELETE = do_POST

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send(self, reply: Reply) -> None:
        out = b"" if reply.json is None else json.dumps(reply.json).encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if out:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ScriptedServer:
    """Listens on 127.0.0.1 (a free port, kept across ``stop()``/``start()``)."""

    def __init__(self, script: Script = accept_all) -> None:
        self.port = 0
        self.released = threading.Event()  # ends every STALL; set by close()
        self.errors: list[BaseException] = []  # a script that raised (answered 500)
        self._script: Script = script
        self._requests: list[Request] = []
        self._lock = threading.Lock()  # the script, the requests
        self._httpd: _Server | None = None

    # -- scripting -------------------------------------------------------------------------------

    def respond(self, script: Script) -> None:
        """From the next request on, answer with ``script``."""
        with self._lock:
            self._script = script

    @property
    def requests(self) -> list[Request]:
        """Every request received so far, in order of arrival."""
        with self._lock:
            return list(self._requests)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- life ------------------------------------------------------------------------------------

    def start(self) -> None:
        httpd = _Server(("127.0.0.1", self.port), _Handler)
        httpd.owner = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        """Stop listening (connections are refused) until ``start()``, on the same port."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def close(self) -> None:
        """Release every stalled request and stop; raise what a script raised, if anything."""
        self.released.set()
        self.stop()
        if self.errors:
            raise AssertionError(f"the server's script failed: {self.errors[0]!r}")

    # -- one request -----------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        body = handler.read_body()
        request = Request(
            method=handler.command,
            path=handler.path,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            at=time.monotonic(),
        )
        with self._lock:
            self._requests.append(request)
            script = self._script
            try:
                answer = script(request) if callable(script) else script
            except Exception as exc:
                self.errors.append(exc)
                answer = Reply(500, {"error": {"message": f"script failed: {exc!r}"}})
            request.answer = answer
        if isinstance(answer, Stall):
            (answer.until or self.released).wait(answer.limit)
        if isinstance(answer, Reply):
            handler.send(answer)
        else:  # DROP, or a STALL over: the socket is closed with nothing written
            handler.close_connection = True
