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
    "format_ts",
    "format_uuid",
    "low",
    "new_id",
    "new_id_str",
    "now_ns",
    "parse_ts",
    "reseed",
]

now_ns = time.time_ns

# An id is the 48-bit millisecond time, then 80 bits drawn from ``low``: the version, 12 random
# bits, the variant, and a counter started at a random offset. Within one process ids strictly
# follow creation order and cost one ``next()``; the random parts keep processes apart.
# Reseeded in a forked child, so the decorators read ``_ids.low`` at each call.
low: Iterator[int] = itertools.count()


def reseed() -> None:
    global low
    rnd = random.SystemRandom()
    high = (0x7 << 76) | (rnd.getrandbits(12) << 64) | (0b10 << 62)
    # The counter (62 bits) starts below 2**60: it would take 3 * 2**60 ids to reach the variant.
    low = itertools.count(high | rnd.getrandbits(60))


reseed()


def new_id(ns: int | None = None) -> int:
    """A UUIDv7 as an int; ``ns`` is the creation time (``time.time_ns()``) if already known."""
    return ((time.time_ns() if ns is None else ns) // 1_000_000 << 80) | next(low)


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
