"""``_wire.Origin``: POSTs over kept-alive connections, against real servers on 127.0.0.1 whose
answers each test scripts (keep the connection, close it, drop the request, stall, speak
something else), plain, through a proxy and over TLS."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme

from agentlog.exporters._wire import Origin, WireError

# "keep"; "close" (answer, then close without saying so); "trail" (answer, then stray bytes on
# the open connection); "drop" (no answer); "stall" (no answer until the test ends); "junk"
Action = str


@dataclass
class Seen:
    connection: int
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    """A scripted HTTP/1.1 server: ``script(n)`` says what to do with the n-th request."""

    script: Callable[[int], Action] = lambda n: "keep"
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    trail: threading.Event = field(default_factory=threading.Event)
    trailed: threading.Event = field(default_factory=threading.Event)
    httpd: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.httpd is not None
        return self.httpd.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless told otherwise
    server: Any

    def setup(self) -> None:
        super().setup()
        state: Server = self.server.state
        state.connections += 1
        self.connection_no = state.connections

    def do_POST(self) -> None:
        state: Server = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        state.seen.append(Seen(self.connection_no, self.path, dict(self.headers), body))
        action = state.script(len(state.seen) - 1)
        if action == "drop":  # no answer at all: the connection just ends
            self.close_connection = True
            return
        if action == "stall":  # no answer until the test is over
            state.release.wait(10)
            self.close_connection = True
            return
        if action == "junk":
            self.wfile.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
            self.close_connection = True
            return
        reply = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
        if action == "trail":  # once told, bytes after the answer; the connection left open
            state.trail.wait(10)
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            state.trailed.set()
            state.release.wait(10)
        self.close_connection = action in ("close", "trail")

    def log_message(self, *args: Any) -> None:
        pass


def _serve(state: Server, context: ssl.SSLContext | None = None) -> Server:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    if context is not None:
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.state = state  # type: ignore[attr-defined]
    state.httpd = httpd
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    return state


@pytest.fixture
def server() -> Iterator[Server]:
    state = _serve(Server())
    yield state
    state.release.set()
    assert state.httpd is not None
    state.httpd.shutdown()
    state.httpd.server_close()


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE",
                 "SSL_CERT_DIR"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


_made: list[Origin] = []


@pytest.fixture(autouse=True)
def _closed() -> Iterator[None]:
    yield
    while _made:
        _made.pop().close()


def _origin(url: str, timeout: float = 5.0) -> Origin:
    origin = Origin(url, timeout=timeout, headers={"Content-Type": "application/json"})
    _made.append(origin)
    return origin


def test_a_kept_alive_connection_carries_the_next_request(server: Server) -> None:
    origin = _origin(f"http://127.0.0.1:{server.port}/v1/ingest")
    assert origin.post(b"one").status == 200
    assert origin.post(b"two").status == 200
    assert [(s.connection, s.path, s.body) for s in server.seen] == [
        (1, "/v1/ingest", b"one"), (1, "/v1/ingest", b"two")]  # fmt: skip


def test_a_connection_the_server_closed_while_idle_is_not_reused(server: Server) -> None:
    server.script = lambda n: "close"  # answered, then the socket closed (no Connection: close)
    origin = _origin(f"http://127.0.0.1:{server.port}/")
    origin.post(b"one")
    _wait_closed(server)
    assert origin.post(b"two").status == 200
    assert [s.connection for s in server.seen] == [1, 2]


def test_a_connection_with_stray_bytes_while_idle_is_not_reused(server: Server) -> None:
    # Sent on that connection, the next request would read those bytes as its answer.
    server.script = lambda n: "trail" if n == 0 else "keep"
    origin = _origin(f"http://127.0.0.1:{server.port}/")
    origin.post(b"one")
    server.trail.set()  # the answer read: now the stray bytes
    assert server.trailed.wait(5)
    assert origin.post(b"two").json() == {"ok": True}
    assert [(s.connection, s.body) for s in server.seen] == [(1, b"one"), (2, b"two")]


def test_a_request_the_server_dropped_on_a_reused_connection_is_sent_once_more(
    server: Server,
) -> None:
    server.script = lambda n: "drop" if n == 1 else "keep"
    origin = _origin(f"http://127.0.0.1:{server.port}/")
    origin.post(b"one")
    assert origin.post(b"two").json() == {"ok": True}
    assert [(s.connection, s.body) for s in server.seen] == [(1, b"one"), (1, b"two"), (2, b"two")]


def test_a_request_dropped_on_a_new_connection_is_an_error_not_sent_again(
    server: Server,
) -> None:
    server.script = lambda n: "drop"
    with pytest.raises(WireError, match="RemoteDisconnected"):
        _origin(f"http://127.0.0.1:{server.port}/").post(b"one")
    assert len(server.seen) == 1


def test_no_answer_within_the_timeout_is_an_error_naming_it(server: Server) -> None:
    server.script = lambda n: "stall"
    with pytest.raises(WireError, match=r"TimeoutError|timed out"):
        _origin(f"http://127.0.0.1:{server.port}/", timeout=0.2).post(b"one")


def test_a_refused_connection_is_an_error_naming_it() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(WireError, match="ConnectionRefusedError"):
        _origin(f"http://127.0.0.1:{port}/").post(b"one")


def test_an_answer_that_is_not_http_is_an_error(server: Server) -> None:
    server.script = lambda n: "junk"
    with pytest.raises(WireError, match="BadStatusLine"):
        _origin(f"http://127.0.0.1:{server.port}/").post(b"one")


def test_an_endpoint_that_is_not_an_http_url_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="ftp://collector"):
        _origin("ftp://collector/")


def test_a_proxy_from_the_environment_gets_the_whole_url_and_its_credentials(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The collector's host does not resolve: only the proxy (the scripted server) is reached.
    monkeypatch.setenv("HTTP_PROXY", f"http://me:s%40cret@127.0.0.1:{server.port}")
    _origin("http://collector.invalid:8029/v1/ingest").post(b"one")
    (seen,) = server.seen
    assert seen.path == "http://collector.invalid:8029/v1/ingest"
    assert seen.headers["Host"] == "collector.invalid:8029"
    assert seen.headers["Proxy-Authorization"] == "Basic bWU6c0BjcmV0"  # me:s@cret


def test_no_proxy_sends_the_request_direct(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    _origin(f"http://127.0.0.1:{server.port}/v1/ingest").post(b"one")
    assert [s.path for s in server.seen] == ["/v1/ingest"]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[Server]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "collector.test").configure_cert(context)
    state = _serve(Server(), context)
    yield state
    state.release.set()
    assert state.httpd is not None
    state.httpd.shutdown()
    state.httpd.server_close()


def test_https_is_checked_against_ssl_cert_file(
    tls_server: Server, ca: trustme.CA, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    origin = _origin(f"https://127.0.0.1:{tls_server.port}/v1/ingest")
    assert origin.post(b"one").status == 200
    assert origin.post(b"two").status == 200
    assert [(s.connection, s.body) for s in tls_server.seen] == [(1, b"one"), (1, b"two")]


def test_https_with_a_certificate_of_an_unknown_authority_is_an_error(
    tls_server: Server,
) -> None:
    with pytest.raises(WireError, match="CERTIFICATE_VERIFY_FAILED"):
        _origin(f"https://127.0.0.1:{tls_server.port}/").post(b"one")
    assert tls_server.seen == []


def test_https_goes_through_a_proxys_tunnel(
    tls_server: Server, ca: trustme.CA, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    tunnels: list[str] = []
    with _TunnelProxy(tunnels, {"collector.test": tls_server.port}) as proxy_port:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy_port}")
        origin = _origin("https://collector.test:443/v1/ingest")
        assert origin.post(b"one").status == 200
        origin.close()
    assert tunnels == ["collector.test:443"]
    assert [(s.path, s.body) for s in tls_server.seen] == [("/v1/ingest", b"one")]


class _TunnelProxy:
    """A CONNECT proxy: records the tunnels asked for, and joins each to a port on
    127.0.0.1 (``ports`` by host name), byte for byte."""

    def __init__(self, tunnels: list[str], ports: dict[str, int]) -> None:
        self.tunnels, self.ports = tunnels, ports
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.opened: list[socket.socket] = []

    def __enter__(self) -> int:
        threading.Thread(target=self._accept, daemon=True).start()
        return int(self.listener.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        for s in self.opened:
            s.close()

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096)
        target = head.split(b" ")[1].decode()
        self.tunnels.append(target)
        upstream = socket.create_connection(("127.0.0.1", self.ports[target.split(":")[0]]))
        self.opened += [client, upstream]
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _wait_closed(server: Server) -> None:
    """Until the server's side of the last connection is closed: its handler thread ends
    after it closes the socket (ThreadingHTTPServer joins them on server_close, so they are
    listed)."""
    assert server.httpd is not None
    threads = list(getattr(server.httpd, "_threads", []) or [])
    for t in threads:
        t.join(5)
