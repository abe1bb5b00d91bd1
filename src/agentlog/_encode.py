"""The worker's hot loop: raw records to JSON Lines, a batch at a time.

A batch of event tuples is written column by column, with no Python code run per record:
``zip(*raw)`` turns the records into columns (compact records, what a sync decorated call that
returned appends, get their constant columns back in one step: ``_widen``), and each column is written by a few calls over
the whole batch. A value every record shares (the session, type, name, parent, status, the
second the batch falls in: the common case) goes into the template of a line once. The ids are
written as hex by one ``%`` and cut by one struct unpack into the head (their high 80 bits, a
lookup: it changes once a millisecond) and the low 48 bits; orjson writes the nanoseconds of
every start and end in one call, and a struct unpack cuts the microseconds out of that text;
orjson writes every duration in another. The columns then go through one ``%`` of the line
template repeated for the batch: the whole batch is one buffer, built in one call, and the
file exporter writes it as it is.

The common batch (what sync decorated calls that returned record: every event ended ok, plain,
within one second or two in a row) takes a shorter way, ``_plain``: its lines are fixed text,
fixed-width fields (the id's hex digits, the microseconds, the characters of the time that tell
two seconds apart) and a few variable ones (the duration, the data). The fixed-width fields are
copied into a buffer of the batch's fixed-width pieces a character position at a time (a slice
assignment for the whole batch each), and one ``join`` lays those pieces, the durations and the
data between the constant texts: no ``%`` conversion and no piece per field of each record.

Records this does not take (session and message records, open spans) are written one by one
(``_one``) and spliced in at their place. Should the columns fail for any reason (a value of an
unexpected type), every record of the batch is written alone instead, so a record that cannot
be encoded fails alone, as it always has. Per record, every ``%`` conversion, ``map`` step or
new object counts (100-500 instructions each): that is why this reads the way it does.
"""

from __future__ import annotations

from binascii import hexlify
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, repeat
from operator import floordiv, mod, sub, truediv
from struct import Struct
from typing import Any, NamedTuple

import orjson
from orjson import dumps

from ._ids import format_ts
from ._log import warn_once
from ._serialize import fit, safe_repr
from ._stats import record_session_id

__all__ = ["LineEncoder"]

_LOW = (1 << 48) - 1
_SECOND = 1_000_000_000
_CACHE_MAX = 4096
# Records per template: a larger batch (a flush of a full buffer) is written in chunks this big,
# so that the template, the columns and the line buffer stay in the CPU's caches.
_CHUNK = 1024
# Durations (ns) for which orjson writes ``d / 1e6`` as ``repr`` does, and twice as fast: the
# shortest text that reads back, in fixed notation. Below 100 ns repr writes an exponent
# ("1e-05") that orjson writes another way ("1e-5"); far above, both turn to exponents.
_FIXED = 10**15
# The end of an event line in the common case: no error, no OpenTelemetry ids.
_PLAIN_TAIL = b',"error":null,"trace_id":null,"span_id":null}\n'
_TAIL = b',"error":%s,"trace_id":%s,"span_id":%s}\n'
_STATUS = {"error": b"error"}  # any other status is written "ok"
_BOOL = (b"false", b"true")
# A record written by ``_one`` goes into the batch's template as its finished line.
_SPLICE = b"%s"

Row = tuple[Any, ...]


class _Strided(NamedTuple):
    """A fixed-width field of every line of a batch: ``width`` bytes of ``src`` at ``start``
    for the first line, ``step`` bytes further on for each next one."""

    src: bytes
    start: int
    step: int
    width: int


def _widen(cols: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The 13 columns of full event records from those of compact ones: ``(id, session_id,
    parent_id, type, name, ts, end, data)``, what a sync decorated call that returned records
    (status ok, not partial, no error, no OpenTelemetry ids). Any other columns as they are."""
    if len(cols) != 8:
        return cols
    n = len(cols[0])
    none = (None,) * n
    return [*cols[:7], ("ok",) * n, (False,) * n, cols[7], none, none, none]


def widen(rec: tuple[Any, ...]) -> tuple[Any, ...]:
    """The full 13-field event record of a compact one (see ``_widen``); any other as it is."""
    if len(rec) != 8:
        return rec
    return (*rec[:7], "ok", False, rec[7], None, None, None)


def _head_text(hexes: bytes) -> bytes:
    """The dashed text of an id's high 80 bits (24 characters) from their hex, leading zeros
    left out or not (a column of ids of today has 19 digits)."""
    h = hexes.rjust(20, b"0")
    return b"%s-%s-%s-%s-" % (h[:8], h[8:12], h[12:16], h[16:20])


def _times(ts: int, end: int | None) -> bytes:
    """``ts``, ``end_ts`` and ``duration_ms`` as one record written alone has them."""
    if end is None:
        return b'"ts":"%s","end_ts":null,"duration_ms":null' % format_ts(ts).encode()
    return b'"ts":"%s","end_ts":"%s","duration_ms":%s' % (
        format_ts(ts).encode(),
        format_ts(end).encode(),
        repr((end - ts) / 1e6).encode(),
    )


def _second_text(second: int) -> bytes:
    """The date and time of a second (``ns // 1e9``), to the second: 19 characters."""
    return format_ts(second * _SECOND)[:19].encode()


def _marks(low: int, high: int) -> bytes:
    """A ``bytes.translate`` table: ``low`` to 0, ``high`` to 1, any other byte to 2."""
    table = bytearray(b"\x02" * 256)
    table[low] = 0
    table[high] = 1
    return bytes(table)


def _when(texts: tuple[bytes, bytes], marks: bytes | None) -> list[Any]:
    """Segments (see ``LineEncoder._join``) of the date and time, to the second, of each of a
    batch's starts (or ends), and the point after it: the text of ``texts[0]``, or, where
    ``marks`` (0 or 1 for each value) tells, of ``texts[1]``; each character the two differ in
    is a field one byte wide, written by one ``bytes.translate`` of the marks."""
    low, high = texts
    if not marks:  # None, or empty for an empty batch
        return [low + b"."]
    out: list[Any] = []
    start = 0
    for i in range(len(low)):
        if low[i] != high[i]:
            table = bytearray(256)
            table[0], table[1] = low[i], high[i]
            out += [low[start:i], _Strided(marks.translate(table), 0, 1, 1)]
            start = i + 1
    out.append(low[start:] + b".")
    return out


def _tail(err: dict[str, Any] | None, tid: str | None, spid: str | None) -> bytes:
    if err is None and tid is None and spid is None:
        return _PLAIN_TAIL
    return _TAIL % (dumps(err), dumps(tid), dumps(spid))


class LineEncoder:
    """Turns a batch of raw records into lines; keeps its caches from batch to batch."""

    def __init__(self, max_payload_bytes: int, record_line: Callable[[Any], bytes]) -> None:
        self.max_payload_bytes = max_payload_bytes
        self._record_line = record_line  # session and message records (dicts): rare, slow path
        # JSON text of session ids, types and names (None is null), of parent ids (quoted, or
        # null), id heads by their hex, and the date and time of a second by ``ns // 1e9``.
        self._texts: dict[Any, bytes] = {None: b"null"}
        self._parents: dict[Any, bytes] = {None: b"null"}
        self._heads: dict[bytes, bytes] = {}
        self._seconds: dict[int, bytes] = {}
        self._by_size: dict[tuple[bytes, int], Any] = {}  # structs and templates of n items
        self._fixed: dict[int, tuple[bytearray, bytearray]] = {}  # see _fused

    def encode(
        self, raw: list[Any]
    ) -> tuple[list[bytes], list[str | None], list[bytes], list[str | None]]:
        """The batch as JSON Lines in pieces (``b"".join`` them: each line ends in a newline),
        the session id of each line, what redaction must screen of each, and the session ids of
        the records that could not be encoded (counted failed by the caller).

        The common batch comes out as one piece: joining it is no copy.
        """
        n = len(raw)
        if n > _CHUNK:  # a flush of a large buffer: in chunks that stay in the CPU's caches
            parts: list[bytes] = []
            sids: list[str | None] = []
            screen: list[bytes] = []
            failed: list[str | None] = []
            for i in range(0, n, _CHUNK):
                chunk = self.encode(raw[i : i + _CHUNK])
                parts += chunk[0]
                sids += chunk[1]
                screen += chunk[2]
                failed += chunk[3]
            return parts, sids, screen, failed
        if n and list(map(type, raw)).count(tuple) == n:
            try:
                cols = list(zip(*raw, strict=True))
                plain = self._plain(cols)
                if plain is not None:  # the common batch: every record ok, ended, plain
                    return [plain], list(cols[1]), list(cols[-1 if len(cols) == 8 else 9]), []
                cols = _widen(cols)
                # Events that ended, or point events (no end): every field by columns.
                if len(cols) == 13 and cols[6].count(None) in (0, n):
                    line, columns, screen = self._columns(cols)
                    data = (line * n) % tuple(chain.from_iterable(zip(*columns, strict=True)))
                    return [data], list(cols[1]), screen, []
            except Exception:  # the records are written one by one below
                pass
        return self._mixed(raw)

    def _plain(self, cols: list[tuple[Any, ...]]) -> bytes | None:
        """The batch's lines, when every record (as columns, compact or full) is an event that
        ended ok, not partial, with no error and no OpenTelemetry ids, all of it in one second
        or two in a row, its ids and durations of the usual sizes; else None (the general
        columns write it).

        Every line is then fixed text, fixed-width fields and three of variable width (the
        duration, the data, and the session, parent, type and name when the batch has more
        than one): the fixed-width ones (the id's 31 hex digits, the microseconds of start and
        end, the characters of the time that tell two seconds apart) are copied a character position at a time for the whole batch into the batch's
        lines of fixed width (one slice assignment each, ~20 instructions a record), cut by one
        struct unpack; one ``join`` then lays those pieces, the durations and the data between
        the constant texts. No ``%`` conversion, no piece per field, no cache lookup per id.
        """
        n = len(cols[0])
        if len(cols) == 8:
            eids, sids, pids, etypes, names, tss, ends, datas = cols
        elif len(cols) == 13:
            eids, sids, pids, etypes, names, tss, ends, statuses, partials, datas = cols[:10]
            if (statuses.count("ok") != n or partials.count(False) != n
                    or cols[10].count(None) != n or cols[11].count(None) != n
                    or cols[12].count(None) != n):  # fmt: skip
                return None
        else:
            return None
        # Ids: 31 hex digits each (ids of this era), one comma after each: the commas' places
        # say every one has that width (a total length alone would not).
        hexes = self._template(b"%x,", n) % eids
        if len(hexes) != 32 * n or hexes[31::32].count(b",") != n or b"-" in hexes:
            return None
        # The data of every record within the bound: their total is, most often.
        limit = self.max_payload_bytes
        if len(b"".join(datas)) > limit and max(map(len, datas)) > limit:
            return None
        # Every start and end of one second, or of two in a row: as ints, the second's digits
        # and nine more each. With a comma after every such width and no point or exponent (no
        # float), ``_seconds_of`` checks the second's digits at the start of each.
        second = tss[0] // _SECOND
        width = len(b"%d" % second)
        stride = width + 10
        digits = dumps(tss + ends)
        if (type(second) is not int or second < 1 or len(digits) != 1 + stride * 2 * n
                or digits[stride::stride].count(b",") != 2 * n - 1 or b"." in digits
                or b"e" in digits):  # fmt: skip
            return None
        seconds = self._seconds_of(digits, second, width, 2 * n)
        if seconds is None:
            return None
        first, marks = seconds
        # Durations as orjson writes them, which is repr's text for 100 ns or more (see
        # _FIXED): no exponent or sign (below 10 ns, or negative), none of 10 to 99 ns (written
        # "0.0000..", where repr writes an exponent). Ints below 2**53 (these are below two
        # seconds) divide by the int 10**6 exactly as by 1e6.
        text = dumps(list(map(truediv, map(sub, ends, tss), repeat(1_000_000))))
        if b"e" in text or b"-" in text or b",0.0000" in text or text.startswith(b"[0.0000"):
            return None
        durations = text[1:-1].split(b",")
        self._fill(self._seconds, [first, first + 1], _second_text, None)
        texts_of = self._seconds[first], self._seconds[first + 1]
        micros = 1 + width  # where the microseconds of the first start begin in ``digits``
        texts = self._texts
        segments: list[Any] = [
            _PLAIN_TAIL + b'{"v":1,"kind":"event","id":"0', _Strided(hexes, 0, 32, 7), b"-",
            _Strided(hexes, 7, 32, 4), b"-", _Strided(hexes, 11, 32, 4), b"-",
            _Strided(hexes, 15, 32, 4), b"-", _Strided(hexes, 19, 32, 12),
            b'","session_id":', self._text(sids, texts, dumps),
            b',"parent_id":', self._text(pids, self._parents, self._parent),
            b',"type":', self._text(etypes, texts, dumps), b',"name":', self._text(names, texts, dumps),
            b',"ts":"', *_when(texts_of, marks and marks[:n]), _Strided(digits, micros, stride, 6),
            b'Z","end_ts":"', *_when(texts_of, marks and marks[n:]),
            _Strided(digits, micros + stride * n, stride, 6), b'Z","duration_ms":', durations,
            b',"status":"ok","partial":false,"data":', datas,
        ]  # fmt: skip
        return self._join(segments, n)

    @staticmethod
    def _seconds_of(
        digits: bytes, second: int, width: int, m: int
    ) -> tuple[int, bytes | None] | None:
        """The second of every one of the ``m`` values ``digits`` writes (each ``width + 10``
        bytes on from ``digits[1]``), with None; or the first of two seconds in a row that they
        are all of, with a byte for each value: 0 for the first, 1 for the next. None if the
        values are of any other seconds. ``second`` is one of them.

        By their digits, the batch at a time: the last digit of the second tells the two apart,
        and every other digit must be the first's or the next's as that one says.
        """
        stride = width + 10
        units = digits[width : width + stride * m : stride]
        mine = units.count(b"%d" % (second % 10))
        first = second
        if mine != m:
            if mine + units.count(b"%d" % ((second + 1) % 10)) != m:
                first = second - 1  # ``second`` is the later one, or neither
                if mine + units.count(b"%d" % (first % 10)) != m:
                    return None
        low, high = b"%d" % first, b"%d" % (first + 1)
        if len(low) != width or len(high) != width:
            return None
        marks = None if mine == m else units.translate(_marks(low[-1], high[-1]))
        for i in range(width):
            column = digits[1 + i : 1 + i + stride * m : stride]
            if marks is None or low[i] == high[i]:
                if column.count(low[i : i + 1]) != m:
                    return None
            elif column.translate(_marks(low[i], high[i])) != marks:
                return None
        return first, marks

    def _text(
        self, values: tuple[Any, ...], cache: dict[Any, bytes], make: Callable[[Any], bytes]
    ) -> bytes | list[bytes]:
        """The JSON text of a column of values: one text if every record has the same value,
        else the text of each (both kept in ``cache``)."""
        if values.count(values[0]) == len(values):
            text = cache.get(values[0])
            if text is None:
                self._fill(cache, [values[0]], make, b"null")
                text = cache[values[0]]
            return text
        self._fill(cache, values, make, b"null")
        return list(map(cache.__getitem__, values))

    def _join(self, segments: list[Any], n: int) -> bytes:
        """The ``n`` lines ``segments`` describe (each: text every line has, a ``_Strided``
        field, or the pieces of the lines in order), the first starting with ``_PLAIN_TAIL``
        (the end of the line before), which the first line goes without and the last gets.

        A run of texts and fixed-width fields becomes one piece a line: the run's template
        repeated ``n`` times, each field copied in by one slice assignment per character
        position, cut by one struct unpack. Then one list holds every line's pieces in order,
        the constant ones put by one list repetition: one ``join``.
        """
        pattern: list[bytes | None] = []
        columns: list[Any] = []
        run: list[Any] = []
        for segment in [*segments, None]:
            if type(segment) is bytes or type(segment) is _Strided:
                run.append(segment)
                continue
            if run:
                if [type(x) for x in run].count(_Strided):
                    pattern.append(None)
                    columns.append(self._fused(run, n, len(columns)))
                else:
                    pattern.append(b"".join(run))
                run = []
            if segment is not None:
                pattern.append(None)
                columns.append(segment)
        k = len(pattern)
        pieces: list[Any] = pattern * n
        j = 0
        for i, text in enumerate(pattern):
            if text is None:
                pieces[i::k] = columns[j]
                j += 1
        pieces[0] = pieces[0][len(_PLAIN_TAIL) :]
        pieces.append(_PLAIN_TAIL)
        return b"".join(pieces)

    def _fused(self, run: list[Any], n: int, key: int) -> tuple[bytes, ...]:
        """Texts and fixed-width fields as one piece a line (see ``_join``); ``key`` tells the
        runs of one batch apart."""
        template = bytearray()
        fields = []
        for x in run:
            if type(x) is bytes:
                template += x
            else:
                fields.append((len(template), x))
                template += b" " * x.width
        size = len(template)
        # The last batch's buffer for this run, if it had the same template and size (batch
        # after batch does): its texts are in place, only the fields are copied. A new buffer
        # a batch had the worker's allocator hand pages back and fault them in again (~90 a
        # batch of 512, as much system time as the write). Taken out while in use (one
        # ``dict.pop``): an encode at shutdown beside the worker's never shares it.
        kept = self._fixed.pop(key, None)
        if kept is not None and kept[0] == template and len(kept[1]) == size * n:
            lines = kept[1]
        else:
            lines = template * n
        for at, (src, start, step, width) in fields:
            end = start + step * n
            for i in range(width):
                lines[at + i :: size] = src[start + i : end + i : step]
        pieces: tuple[bytes, ...] = self._cut(b"%ds" % size, n).unpack(lines)
        self._fixed[key] = (template, lines)
        return pieces

    def _mixed(
        self, raw: list[Any], *, alone: bool = False
    ) -> tuple[list[bytes], list[str | None], list[bytes], list[str | None]]:
        """A batch with records the columns do not take: those written one by one, in place
        (with ``alone``, every record: then one that cannot be encoded fails by itself)."""
        # Events by shape (full or compact, see ``_widen``), each shape written by columns.
        events: dict[int, list[Any]] = {13: [], 8: []}
        lines: list[bytes | int] = []  # an int: the next event of that shape
        sids: list[str | None] = []
        screen: list[bytes | int] = []
        failed: list[str | None] = []
        for rec in raw:
            if not alone and type(rec) is tuple and len(rec) in (8, 13) and rec[6] is not None:
                events[len(rec)].append(rec)
                lines.append(len(rec))
                screen.append(len(rec))
                sids.append(rec[1])
                continue
            one = self._one(rec)
            if one is None:
                failed.append(record_session_id(rec))
                continue
            lines.append(one[0])
            screen.append(one[1])
            sids.append(one[2])
        line: dict[Any, bytes] = {}
        rows: dict[Any, Iterator[Row]] = {}
        event_screen: dict[Any, Iterator[bytes]] = {}
        for shape, recs in events.items():
            if not recs:
                continue
            try:
                line[shape], columns, got = self._columns(_widen(list(zip(*recs, strict=True))))
                rows[shape], event_screen[shape] = zip(*columns, strict=True), iter(got)
            except Exception:  # each event alone: the one that cannot be encoded fails alone
                return self._mixed(raw, alone=True)
        template = b"".join([_SPLICE if type(x) is bytes else line[x] for x in lines])
        args = [(x,) if type(x) is bytes else next(rows[x]) for x in lines]
        out_screen = [x if type(x) is bytes else next(event_screen[x]) for x in screen]
        return [template % tuple(chain.from_iterable(args))], sids, out_screen, failed

    def _columns(self, cols: list[tuple[Any, ...]]) -> tuple[bytes, list[Any], list[bytes]]:
        """Event records (as columns; every one with an end) to the template of one line, the
        columns of its arguments, and what redaction screens of each record. A field with one
        value in the whole batch (a session, a type, the second most records start in) is
        written into the template once instead of into every line. Raises on anything odd."""
        eids, sids, pids, etypes, names, tss, ends, statuses, partials, datas, errs, tids, spids = (
            cols
        )
        n = len(eids)
        line: list[bytes] = []
        columns: list[Any] = []

        def put(literal: bytes, const: bytes | None, column: Any, spec: bytes = b"%s") -> None:
            line.append(literal)
            if const is not None:
                line.append(const.replace(b"%", b"%%"))
            else:
                line.append(spec)
                columns.append(column)

        # Ids as hex, all in one call; one struct unpack cuts each into the hex of its high 80
        # bits (the head: one per millisecond, its dashed text looked up, once if the batch has
        # one) and its low 48 bits.
        heads = self._heads
        hexes = self._template(b"%x,", n) % eids
        # Every id 31 hex digits (ids of today): a comma after each 31, not only in total.
        if len(hexes) == 32 * n and hexes[31::32].count(b",") == n and b"-" not in hexes:
            pieces = self._cut(b"19s12s1x", n).unpack(hexes)
        else:  # any other int of 128 bits, by its 16 bytes
            to_bytes: Callable[[int, int, str], bytes] = int.to_bytes  # type: ignore[assignment]
            hexes = hexlify(b"".join(map(to_bytes, eids, repeat(16), repeat("big"))))
            pieces = self._cut(b"20s12s", n).unpack(hexes)
        tops, lows = pieces[0::2], pieces[1::2]
        self._fill(heads, tops, _head_text, None)
        put(b'{"v":1,"kind":"event","id":"', heads[tops[0]] if tops.count(tops[0]) == n else None,
            map(heads.__getitem__, tops))  # fmt: skip
        put(b"", None, lows)
        texts = self._texts
        self._put_text(put, b'","session_id":', sids, texts, dumps)
        self._put_text(put, b',"parent_id":', pids, self._parents, self._parent)
        self._put_text(put, b',"type":', etypes, texts, dumps)
        self._put_text(put, b',"name":', names, texts, dumps)
        if ends[0] is None:  # point events (every end None: the caller checked)
            self._put_times(put, tss, (), None)
            put(b'Z","end_ts":null,"duration_ms":null', b"", None)
        else:
            diffs = list(map(sub, ends, tss))
            # Every duration is at most the latest end less the earliest start: with those two,
            # one ``min`` of the durations bounds them all.
            low, first, last = min(diffs), min(tss), max(ends)
            self._put_times(put, tss, ends, (first, last) if low >= 0 else None)
            millis = list(map(truediv, diffs, repeat(1e6)))
            if 100 <= low and last - first < _FIXED:
                durations: Any = dumps(millis)[1:-1].split(b",")
            else:
                durations = [repr(m).encode() for m in millis]
            put(b'Z","duration_ms":', None, durations)
        status = (b"ok" if statuses.count("ok") == n
                  else b"error" if statuses.count("error") == n else None)  # fmt: skip
        put(b',"status":"', status, map(_STATUS.get, statuses, repeat(b"ok")))
        partial = (b"false" if partials.count(False) == n
                   else b"true" if partials.count(True) == n else None)  # fmt: skip
        put(b'","partial":', partial, map(_BOOL.__getitem__, map(bool, partials)))
        screen = list(datas)
        limit = self.max_payload_bytes
        if max(map(len, datas)) > limit:
            screen = [d if len(d) <= limit else fit(orjson.loads(d), d, limit) for d in datas]
        put(b',"data":', None, screen)
        plain = errs.count(None) == n and tids.count(None) == n and spids.count(None) == n
        tails = None if plain else list(map(_tail, errs, tids, spids))
        put(b"", _PLAIN_TAIL if plain else None, tails)
        template = b"".join(line)
        if errs.count(None) != n:
            # A record with an error is screened whole: the error is the user's text too.
            rows = list(zip(*columns, strict=True))
            columns = [list(c) for c in zip(*rows, strict=True)] if rows else columns
            for i, err in enumerate(errs):
                if err is not None:
                    screen[i] = template % rows[i]
        return template, columns, screen

    @staticmethod
    def _fill(cache: dict[Any, bytes], keys: Iterable[Any], make: Callable[[Any], bytes],
              keep: Any) -> None:  # fmt: skip
        """Add the text of each key not in ``cache`` yet; emptied first when it grows too big
        (``keep``, if not None, stays: the text of None)."""
        new = set(keys).difference(cache)
        if not new:
            return
        if len(cache) + len(new) > _CACHE_MAX:
            cache.clear()
            if keep is not None:
                cache[None] = keep
            new = set(keys).difference(cache)
        cache.update({k: make(k) for k in new})

    def _put_text(self, put: Callable[..., None], literal: bytes, values: tuple[Any, ...],
                  cache: dict[Any, bytes], make: Callable[[Any], bytes]) -> None:  # fmt: skip
        text = self._text(values, cache, make)
        if type(text) is bytes:
            put(literal, text, None)
        else:
            put(literal, None, text)

    def _parent(self, pid: Any) -> bytes:
        return b"null" if pid is None else b'"%s"' % self._uuid(pid)

    def _put_times(self, put: Callable[..., None], tss: tuple[int, ...], ends: tuple[int, ...],
                   bounds: tuple[int, int] | None) -> None:  # fmt: skip
        """``ts``, and ``end_ts`` unless ``ends`` is empty (point events). In the common batch,
        all in one second: the second's date and time go into the template once, and the
        microseconds are cut from the decimal text of the nanoseconds, which orjson writes for
        the whole batch in one call (every value has the second's digits, then nine: one struct
        unpack takes the first six of those)."""
        both = tss + ends
        # Every end at or after its start: the earliest start and the latest end bound all.
        low, high = bounds if bounds is not None else (min(both), max(both))
        m = len(tss)
        second = low // _SECOND
        if second >= 1 and second == high // _SECOND:
            digits = dumps(both)
            n, width = len(both), len(str(second))
            # Every value is of that second, so as an int it is written with the second's digits
            # and nine more: the length says each one was an int, once no float wrote a point,
            # an exponent or a null (nothing else is ordered against ints and written by orjson).
            if (
                len(digits) == 1 + (width + 10) * n
                and b"." not in digits
                and b"e" not in digits
                and b"n" not in digits
            ):
                self._fill(self._seconds, [second], _second_text, None)
                text = self._seconds[second]
                micros = self._cut(b"%dx6s4x" % width, n).unpack_from(digits, 1)
                put(b',"ts":"', text + b".", None)
                put(b"", None, micros[:m])
                if ends:
                    put(b'Z","end_ts":"', text + b".", None)
                    put(b"", None, micros[m:])
                return
        if list(map(type, both)).count(int) != len(both):
            raise TypeError("timestamps must be ints")
        self._put_time(put, b',"ts":"', tss)
        if ends:
            self._put_time(put, b'Z","end_ts":"', ends)

    def _cut(self, item: bytes, n: int) -> Struct:
        """A struct that reads ``n`` items of the layout ``item``."""
        return self._sized(item, n, Struct)  # type: ignore[no-any-return]

    def _template(self, item: bytes, n: int) -> bytes:
        """``item`` repeated ``n`` times."""
        return self._sized(item, n, bytes)  # type: ignore[no-any-return]

    def _sized(self, item: bytes, n: int, kind: Callable[[bytes], Any]) -> Any:
        """``kind(item * n)``, kept: batch after batch has the same size."""
        key = (item, n)
        kept = self._by_size.get(key)
        if kept is None:
            if len(self._by_size) >= 64:
                self._by_size.clear()
            kept = self._by_size[key] = kind(item * n)
        return kept

    def _put_time(self, put: Callable[..., None], literal: bytes, ns: tuple[int, ...]) -> None:
        micros = map(floordiv, map(mod, ns, repeat(_SECOND)), repeat(1000))
        keys = list(map(floordiv, ns, repeat(_SECOND)))
        self._fill(self._seconds, keys, _second_text, None)
        put(literal, None, map(self._seconds.__getitem__, keys))
        put(b".", None, micros, b"%06d")

    def _one(self, rec: Any) -> tuple[bytes, bytes, str | None] | None:
        """One record's line (with its newline), what redaction screens of it and its session
        id; None (logged once) if it cannot be encoded."""
        try:
            if type(rec) is not tuple:
                line = self._record_line(rec)
                return line + b"\n", line, record_session_id(rec)
            eid, sid, pid, etype, name, ts, end, status, partial, data, err, tid, spid = widen(rec)
            if len(data) > self.max_payload_bytes:
                data = fit(orjson.loads(data), data, self.max_payload_bytes)
            start = b'{"v":1,"kind":"event","id":"%s","session_id":%s,"parent_id":%s' % (
                self._uuid(eid), dumps(sid), self._parent(pid)
            )  # fmt: skip
            start += b',"type":%s,"name":%s,%s,"status":"%s","partial":%s,"data":' % (
                dumps(etype), dumps(name), _times(ts, end),
                b"error" if status == "error" else b"ok", b"true" if partial else b"false",
            )  # fmt: skip
            tail = _tail(err, tid, spid)
            line = start + data + tail
            return line, data if err is None else line, sid
        except Exception as exc:
            warn_once("encode", "agentlog: could not encode a record (%s); counted as "
                      "failed in status()", safe_repr(exc), exc_info=False)  # fmt: skip
            return None

    def _uuid(self, value: int) -> bytes:
        return b"%s%012x" % (_head_text(b"%x" % (value >> 48)), value & _LOW)
