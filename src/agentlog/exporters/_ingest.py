"""One attempt to hand a batch to the collector's ``POST /v1/ingest``, and what became of it.

The answer is classified into four outcomes: *delivered* (HTTP 200; some records may still be
rejected one by one), *refused* (a 4xx other than 401/403/408/429: sending it again cannot help),
*auth* (401/403: this key is not accepted; the batch is kept, never deleted, for when a valid key
is used) and *transient* (connection error, timeout, 408, 429, 5xx: worth another try, maybe
after ``Retry-After``).

OpenTelemetry's context module (and the ``idna`` codec a first connection looks up) are imported
here, at module load, never on a send: a process forked while another thread was importing them
would inherit a held import lock and hang on it.
"""

from __future__ import annotations

import contextlib
import encodings.idna  # noqa: F401  # the socket layer imports it on a first connect by host name
import gzip
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from opentelemetry import context as otel_context

from .._constants import VERSION
from .._log import warn_once
from ._wire import Answer, Origin, WireError

__all__ = [
    "MAX_RETRY_AFTER",
    "IngestClient",
    "Outcome",
    "backoff_delay",
    "otel_suppressed",
    "parse_retry_after",
]

_TRANSIENT_STATUS = {408, 429}
_AUTH_STATUS = {401, 403}
# A Retry-After is honoured as sent, up to this: a server asking for a day is probably wrong.
MAX_RETRY_AFTER = 600.0


@dataclass(frozen=True)
class Outcome:
    kind: str  # "delivered" | "refused" | "auth" | "transient"
    rejected: tuple[int, ...] = ()
    reason: str | None = None
    retry_after: float | None = None

    @property
    def settled(self) -> bool:
        """Delivered or refused for good: the batch may leave the spool."""
        return self.kind in ("delivered", "refused")


@contextlib.contextmanager
def otel_suppressed() -> Iterator[None]:
    """Keep the host's OpenTelemetry HTTP instrumentation from tracing our export requests."""
    token = otel_context.attach(
        otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True)
    )
    try:
        yield
    finally:
        otel_context.detach(token)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(attempt: int, *, base: float, cap: float, retry_after: float | None) -> float:
    """Exponential backoff with full jitter; never shorter than what the server asked for."""
    delay = random.uniform(base / 2, min(cap, base * (2 ** max(0, attempt))))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def _error_message(response: Answer) -> str:
    try:
        body = response.json()
        msg = body.get("error", {}).get("message") if isinstance(body, dict) else None
        if isinstance(msg, str) and msg:
            return msg
    except Exception:
        pass
    text = response.text.strip()
    return text[:300] if text else response.reason


# gzip level 1: the exporter compresses in the host's process, where CPU is the host's. On
# batches of tool and LLM records level 1 costs about half of level 5 (~1 µs less an event)
# for a body ~10% larger; the collector inflates either at the same cost.
COMPRESS_LEVEL = 1


class IngestClient:
    """A client bound to one collector: connection reuse, gzip, timeouts (``_wire``)."""

    def __init__(
        self, endpoint: str, *, api_key: str | None, timeout: float,
        compress_level: int = COMPRESS_LEVEL, headers: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.url = endpoint.rstrip("/") + "/v1/ingest"
        self.timeout = timeout
        self.compress_level = compress_level
        self._headers = {"Content-Type": "application/json", "Accept": "application/json",
                         "User-Agent": f"agentlog/{VERSION}", **(headers or {})}  # fmt: skip
        if compress_level > 0:
            self._headers["Content-Encoding"] = "gzip"
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._client = self._new_client()

    def _new_client(self) -> Origin:
        return Origin(self.url, timeout=self.timeout, headers=self._headers)

    def reopen(self) -> None:
        """After fork: the parent's kept-alive connections are not ours to use."""
        self._client.forget()
        self._client = self._new_client()

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:  # closing must not raise on the way out
            pass

    def body(self, lines: list[bytes]) -> bytes:
        raw = b'{"records":[' + b",".join(lines) + b"]}"
        return gzip.compress(raw, self.compress_level) if self.compress_level > 0 else raw

    def send(self, lines: list[bytes]) -> Outcome:
        """One attempt (a batch refused as too large is split in halves and sent as parts)."""
        try:
            with otel_suppressed():
                response = self._client.post(self.body(lines))
        except WireError as exc:  # connect, send, read, timeouts, an answer not HTTP
            return Outcome("transient", reason=str(exc))
        except Exception as exc:
            warn_once("http-send-error", "agentlog: sending to %s failed: %r", self.url, exc)
            return Outcome("transient", reason=repr(exc))
        status = response.status
        if status == 413 and len(lines) > 1:
            return self._send_halves(lines)
        if 200 <= status < 300:
            return Outcome("delivered", rejected=self._rejected(response, lines))
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        reason = f"HTTP {status}: {_error_message(response)}"
        if status in _TRANSIENT_STATUS or status >= 500:
            return Outcome("transient", reason=reason, retry_after=retry_after)
        if status in _AUTH_STATUS:
            return Outcome("auth", reason=reason)
        warn_once(
            f"http-refused:{status}:{reason}",
            "agentlog: the collector refused a batch of %d record(s), not retrying: %s",
            len(lines), reason, exc_info=False,
        )  # fmt: skip
        return Outcome("refused", reason=reason)

    def _send_halves(self, lines: list[bytes]) -> Outcome:
        mid = len(lines) // 2
        first = self.send(lines[:mid])
        if not first.settled:
            return first  # nothing of the second half went: the whole batch is kept
        second = self.send(lines[mid:])
        if not second.settled:
            # The first half is in (the collector is idempotent by id): retrying it all is safe.
            return second
        rejected = (
            (tuple(range(mid)) if first.kind == "refused" else first.rejected)
            + tuple(mid + i for i in (range(len(lines) - mid) if second.kind == "refused" else second.rejected))
        )  # fmt: skip
        return Outcome("delivered", rejected=rejected, reason=first.reason or second.reason)

    def _rejected(self, response: Answer, lines: list[bytes]) -> tuple[int, ...]:
        try:
            body: Any = response.json()
        except Exception:
            return ()
        items = body.get("rejected") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return ()
        index_by_id: dict[str, int] | None = None
        out: set[int] = set()
        for item in items:
            if not isinstance(item, dict):
                continue
            idx = item.get("index")
            if not isinstance(idx, int) or not 0 <= idx < len(lines):
                if index_by_id is None:
                    index_by_id = {}
                    for i, line in enumerate(lines):
                        rid = orjson.loads(line).get("id")
                        if isinstance(rid, str):
                            index_by_id.setdefault(rid, i)
                idx = index_by_id.get(str(item.get("id")))
                if idx is None:
                    continue
            out.add(idx)
            reason = str(item.get("reason") or "no reason given")
            warn_once(
                f"http-rejected:{reason}",
                "agentlog: the collector rejected record %s, not retrying: %s",
                item.get("id"), reason, exc_info=False,
            )  # fmt: skip
        return tuple(sorted(out))
