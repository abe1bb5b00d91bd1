"""Reading an ingest body within limits: size on the wire, size decoded, records per batch.

The body is read as a stream and abandoned as soon as it passes a limit, so an oversized
request costs at most the limit in memory. Gzip is inflated with a bounded output size per
step: a small body that inflates to gigabytes (a gzip bomb) is stopped at ``max_decoded_bytes``.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from ..store import IngestResult, RejectedRecord
from ..store._screen import screen, with_refused
from ._errors import ApiError
from ._writer import GroupWriter

__all__ = ["IngestLimits", "ingest_records", "parse_batch", "read_body"]


@dataclass(frozen=True)
class IngestLimits:
    max_body_bytes: int = 16 * 1024 * 1024  # as sent (compressed when gzip)
    max_decoded_bytes: int = 64 * 1024 * 1024  # after inflating
    max_records: int = 10_000  # per batch
    max_inflight: int = 16  # batches read or stored at once; more are answered 429

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_decoded_bytes", "max_records", "max_inflight"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")


def _too_large(message: str, **extra: Any) -> ApiError:
    return ApiError(413, "payload_too_large", message, **extra)


class _Inflater:
    """Gzip (possibly several members back to back) with a cap on what comes out."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.out = bytearray()
        self._d = zlib.decompressobj(wbits=31)
        self._mid = False  # inside a member whose trailer has not arrived yet

    def feed(self, data: bytes) -> None:
        while data:
            self._mid = True
            room = self.limit - len(self.out)
            try:
                # max_length bounds each step; room + 1 so crossing the limit is noticed.
                chunk = self._d.decompress(data, room + 1)
            except zlib.error as exc:
                raise ApiError(400, "invalid_gzip", f"body: invalid gzip data ({exc})") from None
            self.out += chunk
            if len(self.out) > self.limit:
                raise _too_large(
                    f"body: decompresses to more than {self.limit} bytes; send smaller batches",
                    limit=self.limit,
                )
            if self._d.eof:
                data = self._d.unused_data
                self._d = zlib.decompressobj(wbits=31)
                self._mid = False
            else:
                data = self._d.unconsumed_tail

    def finish(self) -> bytes:
        if self._mid:
            raise ApiError(400, "invalid_gzip", "body: truncated gzip data")
        return bytes(self.out)


async def read_body(
    chunks: AsyncIterator[bytes], *, encoding: str, content_length: str | None,
    limits: IngestLimits,
) -> bytes:  # fmt: skip
    """The decoded body, or an ``ApiError`` (413 over a limit, 400 bad gzip, 415 encoding)."""
    enc = encoding.strip().lower()
    if enc not in ("", "identity", "gzip", "x-gzip"):
        raise ApiError(415, "unsupported_encoding",
                       f"Content-Encoding {encoding!r} is not supported; use gzip or none")  # fmt: skip
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise ApiError(400, "bad_request", "Content-Length: not an integer") from None
        if declared > limits.max_body_bytes:
            raise _too_large(f"body: {declared} bytes is over the limit of "
                             f"{limits.max_body_bytes} bytes; send smaller batches",
                             limit=limits.max_body_bytes)  # fmt: skip
    gz = enc in ("gzip", "x-gzip")
    inflater = _Inflater(limits.max_decoded_bytes) if gz else None
    raw = bytearray()
    received = 0
    async for chunk in chunks:
        if not chunk:
            continue
        received += len(chunk)
        if received > limits.max_body_bytes:
            raise _too_large(f"body: over the limit of {limits.max_body_bytes} bytes; "
                             "send smaller batches", limit=limits.max_body_bytes)  # fmt: skip
        if inflater is not None:
            inflater.feed(chunk)
        else:
            raw += chunk
    if inflater is None:
        if len(raw) > limits.max_decoded_bytes:
            raise _too_large(f"body: over the limit of {limits.max_decoded_bytes} bytes",
                             limit=limits.max_decoded_bytes)  # fmt: skip
        return bytes(raw)
    if not received:
        raise ApiError(400, "invalid_gzip", "body: empty, but Content-Encoding is gzip")
    return inflater.finish()


def parse_batch(body: bytes, *, limits: IngestLimits) -> list[Any]:
    """The ``records`` list of ``{"records": [...]}``; each record is validated later, alone."""
    if not body.strip():
        raise ApiError(400, "invalid_json", 'body: empty; expected {"records": [...]}')
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"body: malformed JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ApiError(422, "invalid_body",
                       f'body: must be a JSON object {{"records": [...]}}, got {_kind(doc)}')  # fmt: skip
    unknown = sorted(k for k in doc if k != "records")
    if unknown:
        raise ApiError(422, "invalid_body",
                       f"body: unknown field(s) {', '.join(map(repr, unknown))}; "
                       "only 'records' is allowed")  # fmt: skip
    if "records" not in doc:
        raise ApiError(422, "invalid_body", "body.records: field required")
    records = doc["records"]
    if not isinstance(records, list):
        raise ApiError(422, "invalid_body",
                       f"body.records: must be a list of records, got {_kind(records)}")  # fmt: skip
    if len(records) > limits.max_records:
        raise _too_large(f"body.records: {len(records)} records is over the limit of "
                         f"{limits.max_records} per batch; send smaller batches",
                         limit=limits.max_records)  # fmt: skip
    return records


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null", int: "a number", float: "a number"}.get(type(value), "a value")  # fmt: skip


def screen_nul(body: bytes, records: list[Any]) -> tuple[list[int], list[RejectedRecord]]:
    """The indices of records to store, and those refused for holding a NUL character:
    PostgreSQL can keep NUL in neither text nor JSONB, so the collector refuses it on every
    backend alike (one contract, whichever store is behind it). Only a body with a
    ``\\u0000`` escape is walked, so the common case costs one scan; JSON cannot carry the
    other value no store takes (a lone surrogate)."""
    if b"\\u0000" not in body:
        return list(range(len(records))), []
    return screen(records, nul=True)


async def ingest_records(writer: GroupWriter, body: bytes, records: list[Any], *,
                         project: str) -> IngestResult:  # fmt: skip
    """Store the batch; the answer's indices are those of the batch as sent."""
    kept, refused = screen_nul(body, records)
    if not refused:
        return await writer.ingest(records, project)
    return with_refused(await writer.ingest([records[i] for i in kept], project), kept, refused)
