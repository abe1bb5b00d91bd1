"""Time-ordered ids (UUIDv7) and RFC 3339 timestamps.

Ids are generated as ints on the caller's thread (cheap) and formatted to strings only on the
background worker, where the cost does not land on the user's code.
"""

from __future__ import annotations

import itertools
import random
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

__all__ = [
    "edge",
    "format_ts",
    "format_uuid",
    "low",
    "new_epoch",
    "new_id",
    "new_id_str",
    "now_ns",
    "parse_ts",
    "reseed",
]

now_ns = time.time_ns

_MS = 1_000_000
_LOW80 = (1 << 80) - 1

# An id is the 48-bit millisecond time, then 80 bits: the version, 12 random bits, the variant,
# and a 62-bit counter. The ids of one millisecond come from one ``itertools.count`` (an epoch)
# that already holds the millisecond in its high bits and starts at a random point of its 60
# low bits, so that an id costs one ``next()`` and no arithmetic: a caller compares its start
# time with ``edge`` (the first nanosecond after the epoch's millisecond) and only at or past it
# calls ``new_epoch``. Within an epoch ids strictly follow creation order; a later millisecond's
# epoch sorts after it whatever its random start. Two threads that start an epoch at once each
# get a counter of their own: random 60-bit starts, so their ids do not meet. The random parts
# keep processes apart; a forked child reseeds, so callers read ``_ids.low`` and ``_ids.edge`` at
# each call.
low: Iterator[int] = itertools.count()
edge = 0
_high = 0
_rnd = random.Random()


def new_epoch(ns: int) -> None:
    """Start the epoch of the millisecond ``ns`` falls in."""
    global low, edge
    ms = ns // _MS
    # ``low`` first: a thread that sees the new edge with the old counter takes an id of the
    # millisecond before, unique all the same; one that sees the old edge starts an epoch too.
    low = itertools.count(ms << 80 | _high | _rnd.getrandbits(60))
    edge = (ms + 1) * _MS


def reseed() -> None:
    global _high
    rnd = random.SystemRandom()
    _high = (0x7 << 76) | (rnd.getrandbits(12) << 64) | (0b10 << 62)
    _rnd.seed(rnd.getrandbits(128))
    new_epoch(0)  # the next id of a real time starts an epoch from the new seed


reseed()


def new_id(ns: int | None = None) -> int:
    """A UUIDv7 as an int; ``ns`` is the creation time (``time.time_ns()``) if already known.

    A given time still to come (a copy shifted forward) starts no epoch: the epoch would carry
    it into the ids of later calls.
    """
    if ns is None:
        ns = time.time_ns()
    elif ns >= edge and ns > time.time_ns():
        return ns // _MS << 80 | next(low) & _LOW80
    if ns >= edge:
        new_epoch(ns)
        return next(low)
    if ns >= edge - _MS:  # the current epoch's millisecond
        return next(low)
    # An earlier millisecond (an event recorded after the fact, a clock that went back): that
    # millisecond, with the epoch's next low bits (unique as ever).
    return ns // _MS << 80 | next(low) & _LOW80


def format_uuid(value: int) -> str:
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_id_str() -> str:
    return format_uuid(new_id())


_ts_cache: tuple[int, str] = (-1, "")


def format_ts(ns: int) -> str:
    """UTC RFC 3339 with microseconds, e.g. ``2026-11-23T03:35:53.123456Z``.

    The date-and-seconds prefix is cached per second: formatting is on the worker's hot loop.
    """
    global _ts_cache
    sec, rem = divmod(ns, 1_000_000_000)
    cached_sec, prefix = _ts_cache
    if cached_sec != sec:
        prefix = datetime.fromtimestamp(sec, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        _ts_cache = (sec, prefix)
    return f"{prefix}.{rem // 1000:06d}Z"


# RFC 3339 (any number of fraction digits, "Z" or an offset), plus the forms people also send:
# a space for "T", no seconds, no offset (taken as UTC), a bare date. Parsed by hand rather than
# with datetime.fromisoformat, whose accepted forms differ between Python 3.10 and 3.11.
_TS = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)


def parse_ts(value: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime; ``ValueError`` if it is not one."""
    m = _TS.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    year, month, day, hour, minute, second, frac, _z, sign, off_h, off_m = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if sign is not None:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        tz = timezone(offset if sign == "+" else -offset)
    dt = datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
        micro, tzinfo=tz,
    )  # fmt: skip
    return dt.astimezone(timezone.utc)
