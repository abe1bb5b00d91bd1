"""The worker's hot loop: raw records to JSON Lines, each event in one string build.

An event line is one f-string (ids, timestamps, names) encoded once, followed by the already
encoded ``data`` and a constant tail; the pieces of a whole batch are joined once, into the
buffer the file exporter writes. What repeats from record to record is formatted once and
reused: the high 80 bits of an id (time, version, per-process bits: they change once a
millisecond), the date and time of a timestamp to the second, session ids, types and names.
Per record only the low 48 bits of an id, the microseconds and the duration are written: every
``%`` or format spec here costs about 100 ns on the machines we measure on, which is why the
loop looks the way it does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from orjson import dumps

from ._ids import format_ts
from ._log import warn_once
from ._serialize import fit, safe_repr
from ._stats import record_session_id

__all__ = ["LineEncoder"]

_LOW = (1 << 48) - 1
# Three decimal digits by table: two lookups write the microseconds faster than "%06d".
_D3 = tuple(f"{i:03d}" for i in range(1000))
_SECOND = 1_000_000_000
_CACHE_MAX = 4096
# Durations (ns) for which orjson writes ``d / 1e6`` as ``repr`` does, and twice as fast: the
# shortest text that reads back, in fixed notation. Below 100 ns repr writes an exponent
# ("1e-05") that orjson writes another way ("1e-5"); far above, both turn to exponents.
_FIXED = 10**15
# The end of an event line in the common case: no error, no OpenTelemetry ids.
_PLAIN_TAIL = b',"error":null,"trace_id":null,"span_id":null}\n'


def _id_head(top: int) -> str:
    """The text of an id's high 80 bits (``top = id >> 48``), with its dashes: 24 characters."""
    h = "%016x" % (top >> 16)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{top & 0xFFFF:04x}-"


def _other_times(ts: int, end: int | None) -> str:
    """``ts``, ``end_ts`` and ``duration_ms`` of an open span, or of one that ended in a later
    second than it started (the loop writes the common case itself)."""
    if end is None:
        return f'"ts":"{format_ts(ts)}","end_ts":null,"duration_ms":null'
    return f'"ts":"{format_ts(ts)}","end_ts":"{format_ts(end)}","duration_ms":{(end - ts) / 1e6!r}'


def _tail(err: dict[str, Any] | None, tid: str | None, spid: str | None) -> bytes:
    return b',"error":%s,"trace_id":%s,"span_id":%s}\n' % (
        orjson.dumps(err),
        orjson.dumps(tid),
        orjson.dumps(spid),
    )


class LineEncoder:
    """Turns a batch of raw records into lines; keeps its caches from batch to batch."""

    def __init__(self, max_payload_bytes: int, record_line: Callable[[Any], bytes]) -> None:
        self.max_payload_bytes = max_payload_bytes
        self._record_line = record_line  # session and message records (dicts): rare, slow path
        self._texts: dict[str | None, str] = {None: "null"}
        self._heads: dict[int, str] = {}
        # The start of a second (in ns) and its date and time as text: one tuple, so that a
        # shutdown encoding beside a stuck worker never leaves one's second with the other's text.
        self._second: tuple[int, str] = (0, format_ts(0)[:19])

    def _text(self, value: str | None) -> str:
        """A JSON string, remembered: session ids, types and names repeat batch after batch."""
        texts = self._texts
        if len(texts) >= _CACHE_MAX:
            texts.clear()
            texts[None] = "null"
        out = texts[value] = orjson.dumps(value).decode()
        return out

    def _head(self, top: int) -> str:
        heads = self._heads
        if len(heads) >= _CACHE_MAX:
            heads.clear()
        out = heads[top] = _id_head(top)
        return out

    def encode(
        self, raw: list[Any]
    ) -> tuple[list[bytes], list[str | None], list[bytes], list[str | None]]:
        """The batch as JSON Lines in pieces (``b"".join`` them: each line ends in a newline),
        the session id of each line, what redaction must screen of each, and the session ids of
        the records that could not be encoded (counted failed by the caller).

        Pieces rather than lines: the default exporter writes the batch as one buffer, so each
        line is copied once, into it, instead of being concatenated first.
        """
        parts: list[bytes] = []
        sids: list[str | None] = []
        screen: list[bytes] = []
        failed: list[str | None] = []
        texts, heads, limit = self._texts, self._heads, self.max_payload_bytes
        text, head_of = self._text, self._head
        base, second = self._second
        add, add_sid, add_part = parts.append, sids.append, screen.append
        for rec in raw:
            try:
                if type(rec) is not tuple:
                    line = self._record_line(rec)
                    sid = record_session_id(rec)
                    add(line)
                    add(b"\n")
                    add_part(line)
                    add_sid(sid)
                    continue
                eid, sid, pid, etype, name, ts, end, status, partial, data, err, tid, spid = rec
                top = eid >> 48
                head = heads.get(top) or head_of(top)
                r = ts - base
                if not 0 <= r < _SECOND:
                    # The text first: a timestamp it refuses fails its record, not the cache.
                    second = format_ts(ts)[:19]
                    base = ts - ts % _SECOND
                    r = ts - base
                if pid is None:
                    parent = "null"
                else:
                    ptop = pid >> 48
                    phead = heads.get(ptop) or head_of(ptop)
                    parent = f'"{phead}{(pid & _LOW).to_bytes(6, "big").hex()}"'
                e = -1 if end is None else end - base
                if 0 <= e < _SECOND:  # the common case: it ended in the second it started
                    d = end - ts
                    times = (
                        f'"ts":"{second}.{_D3[r // 1_000_000]}{_D3[r // 1000 % 1000]}Z"'
                        f',"end_ts":"{second}.{_D3[e // 1_000_000]}{_D3[e // 1000 % 1000]}Z"'
                        ',"duration_ms":'
                        f"{dumps(d / 1e6).decode() if 100 <= d < _FIXED else repr(d / 1e6)}"
                    )
                else:
                    times = _other_times(ts, end)
                if len(data) > limit:
                    data = fit(orjson.loads(data), data, limit)
                start = (
                    f'{{"v":1,"kind":"event","id":"{head}{(eid & _LOW).to_bytes(6, "big").hex()}"'
                    f',"session_id":{texts.get(sid) or text(sid)},"parent_id":{parent}'
                    f',"type":{texts.get(etype) or text(etype)}'
                    f',"name":{texts.get(name) or text(name)},{times}'
                    f',"status":"{"error" if status == "error" else "ok"}"'
                    f',"partial":{"true" if partial else "false"},"data":'
                ).encode()
                if err is None and tid is None and spid is None:
                    tail = _PLAIN_TAIL
                    add_part(data)
                else:
                    tail = _tail(err, tid, spid)
                    add_part(data if err is None else start + data + tail)
                add(start)
                add(data)
                add(tail)
                add_sid(sid)
            except Exception as exc:
                warn_once("encode", "agentlog: could not encode a record (%s); counted as "
                          "failed in status()", safe_repr(exc), exc_info=False)  # fmt: skip
                failed.append(record_session_id(rec))
        self._second = (base, second)
        return parts, sids, screen, failed
