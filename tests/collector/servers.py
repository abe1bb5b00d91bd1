"""Real collectors for tests: uvicorn in a thread of this process, or ``agentlog serve`` in a
subprocess (which can be killed and restarted on the same port)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(cond: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        threading.Event().wait(0.02)


_probe = httpx.Client(timeout=1.0, trust_env=False)  # one client: no TLS set-up per probe


def answers(url: str) -> bool:
    try:
        return _probe.get(url + "/healthz").status_code == 200
    except httpx.HTTPError:
        return False


class ThreadServer:
    """uvicorn serving ``app`` on 127.0.0.1 in a daemon thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        wait_for(lambda: self.server.started, what="uvicorn to start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10.0)


class Collector:
    """``agentlog serve`` as a subprocess; ``start()`` again after ``kill()`` on the same port."""

    def __init__(self, db: str, *, keys: str, log: Path, port: int | None = None,
                 extra: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.db = db
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.keys = keys
        self.log = log
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Collector:
        env = {**os.environ, "AGENTLOG_API_KEYS": self.keys}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agentlog.cli", "serve", "--db", self.db, "--host",
                 "127.0.0.1", "--port", str(self.port), "--log-level", "warning", *self.extra],
                stdout=out, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
        wait_for(lambda: answers(self.url) or self._died(), what="the collector to answer")
        if self._died():
            raise AssertionError(f"collector exited: {self.log.read_text()[-2000:]}")
        return self

    def _died(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10.0)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5.0)
