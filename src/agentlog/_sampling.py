"""Sampling: keep ``sample_rate`` of sessions, and with ``keep_errors`` every one that fails.

The decision is per session and comes from its id alone (a hash), so every thread and process
recording into one session agrees, and it is made before any of its records leaves. A nested
session follows the session at the root of its tree (its start record names its parent), so a
tree is kept or dropped whole. Session-less events are drawn one by one.

With ``keep_errors``, the records of a session that was drawn out wait in a hold until the
session ends: if it ends in ``error`` or records an error event, the hold goes out (and the rest
of the session after it); otherwise it is counted as ``sampled_out``. The hold is bounded (the
pipeline's ``max_queue`` records in all); what does not fit is counted as dropped. At shutdown,
sessions still held (their end never came) are counted as ``sampled_out``.

Installed on a pipeline only when ``sample_rate < 1``: at the default rate the recording path
is the pipeline's own ``emit``, untouched.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import threading
from collections import OrderedDict, deque
from typing import Any

from ._log import warn_once
from ._stats import PipelineStatus, record_session_id

__all__ = ["Sampler", "draw", "install"]

_KEPT_MEMORY = 10_000  # roots kept because of an error, remembered for late records
_DECISIONS = 65_536  # cached draws, cleared when full


def draw(session_id: str) -> float:
    """The session's draw in [0, 1): the same in every process. A real hash (BLAKE2b): ids of
    one process differ in a few bits, which a CRC would map to correlated draws."""
    digest = hashlib.blake2b(session_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 18446744073709551616.0


def _is_error(rec: Any) -> bool:
    if type(rec) is tuple:  # an EventTuple: type at 3, status at 7
        return bool(rec[3] == "error" or rec[7] == "error")
    kind = rec.get("kind")
    if kind == "session":
        return bool(rec.get("status") == "error")
    return bool(kind == "event" and (rec.get("type") == "error" or rec.get("status") == "error"))


class Sampler:
    def __init__(self, pipeline: Any, rate: float, keep_errors: bool, max_hold: int) -> None:
        self.pipeline = pipeline
        self.rate = rate
        self.keep_errors = keep_errors
        self.max_hold = max_hold
        cls = type(pipeline)
        self._emit = cls.emit.__get__(pipeline)
        self._status = cls.status.__get__(pipeline)
        self._shutdown = cls.shutdown.__get__(pipeline)
        self._after_fork = cls.after_fork_in_child.__get__(pipeline)
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._roots: dict[str, str] = {}  # open nested session -> the root of its tree
        self._decisions: dict[str, bool] = {}
        self._hold: dict[str, list[Any]] = {}  # root -> its tree's held records
        self._members: dict[str, list[str]] = {}  # root -> the sessions sharing its hold
        self._holding: dict[str, list[Any]] = {}  # session -> its tree's hold (the fast path)
        # Records held = tickets taken - tickets freed: next() on a count is atomic, so the
        # fast path needs no lock; freeing (release, let-go, overflow) happens under the lock.
        self._taken = itertools.count()
        self._freed = 0
        self._kept: OrderedDict[str, None] = OrderedDict()
        self._out: deque[str | None] = deque()  # sampled-out session ids, counted lazily

    # -- the recording path ------------------------------------------------------------------
    def emit(self, rec: Any) -> None:
        """In place of ``Pipeline.emit``: never blocks on I/O, never raises."""
        try:
            if type(rec) is tuple:  # an event of a held session: straight into its hold
                h = self._holding.get(rec[1])
                if h is not None and rec[7] != "error" and rec[3] != "error":
                    if next(self._taken) - self._freed < self.max_hold:
                        h.append(rec)
                    else:
                        self._overflow(rec[1])
                    return
            ended = None
            sid: str | None
            if type(rec) is tuple:
                sid = rec[1]
            elif rec.get("kind") == "session":
                sid = rec.get("id")
                ended = rec.get("ended_at")
                parent = rec.get("parent_session_id")
                if parent is not None and sid is not None and sid not in self._roots:
                    if len(self._roots) >= _DECISIONS:  # sessions that never ended: forget them
                        self._roots.clear()
                    self._roots[sid] = self._roots.get(parent, parent)
            else:
                sid = rec.get("session_id")
            if sid is None:
                if random.random() < self.rate or (self.keep_errors and _is_error(rec)):
                    self._emit(rec)
                else:
                    self.count_out(None)
                return
            root: str = self._roots.get(sid, sid)
            keep = self._decisions.get(root)
            if keep is None:
                if len(self._decisions) >= _DECISIONS:
                    self._decisions.clear()
                keep = self._decisions[root] = draw(root) < self.rate
            if keep:
                self._emit(rec)
            elif not self.keep_errors:
                self.count_out(sid)
            else:
                self._hold_or_release(rec, sid, root, ended is not None)
            if ended is not None and sid != root:
                self._roots.pop(sid, None)
        except Exception:  # recording never raises: the record is counted as dropped
            warn_once("sampling", "agentlog: sampling failed for a record")
            self.pipeline.stats.add("dropped", [None])

    def skips(self, session_id: str) -> bool:
        """Whether this new session's calls need not be recorded at all: sampled out, and no
        error could bring it back (no keep_errors)."""
        if self.keep_errors:
            return False
        root = self._roots.get(session_id, session_id)
        keep = self._decisions.get(root)
        return not (draw(root) < self.rate if keep is None else keep)

    def count_out(self, sid: str | None) -> None:
        out = self._out
        out.append(sid)
        if len(out) >= 4096:
            self._drain()

    def _overflow(self, sid: str | None) -> None:
        with self._lock:
            self._freed += 1
        self.pipeline.stats.add("dropped", [sid])

    def _hold_or_release(self, rec: Any, sid: str, root: str, ended: bool) -> None:
        if root in self._kept:
            self._emit(rec)
            return
        error = _is_error(rec)
        release: list[Any] = []
        out: list[Any] = []
        with self._lock:
            if error:
                release = self._hold.pop(root, [])
                self._freed += len(release)
                release.append(rec)
                for member in self._members.pop(root, ()):
                    self._holding.pop(member, None)
                self._kept[root] = None
                if len(self._kept) > _KEPT_MEMORY:
                    self._kept.popitem(last=False)
            elif ended and sid == root:  # the tree ended without an error: its hold is let go
                out = self._hold.pop(root, [])
                self._freed += len(out)
                out.append(rec)
                members = self._members.pop(root, [])
                for member in members:
                    self._holding.pop(member, None)
            elif next(self._taken) - self._freed < self.max_hold:
                hold = self._hold.get(root)
                if hold is None:
                    hold = self._hold[root] = []
                    self._members[root] = []
                hold.append(rec)
                if sid not in self._holding:
                    self._holding[sid] = hold
                    self._members[root].append(sid)
            else:
                self._freed += 1
                release = None  # type: ignore[assignment]
        if release is None:
            self.pipeline.stats.add("dropped", [sid])
            return
        for r in release:
            self._emit(r)
        if out:
            if len(members) <= 1:  # one session's records: no need to look at each
                self._out.extend(itertools.repeat(sid, len(out)))
            else:
                self._out.extend(record_session_id(r) for r in out)
            if len(self._out) >= 4096:
                self._drain()

    # -- counting, shutdown, fork --------------------------------------------------------------
    def _drain(self) -> None:
        out = self._out
        sids = [out.popleft() for _ in range(len(out))]
        if sids:
            self.pipeline.stats.add("sampled_out", sids)

    def status(self, session_id: str | None = None) -> PipelineStatus:
        self._drain()
        return self._status(session_id)  # type: ignore[no-any-return]

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Held sessions that never ended (and never failed) count as sampled out."""
        with self._lock:
            held = [r for recs in self._hold.values() for r in recs]
            self._freed += len(held)
            self._hold.clear()
            self._members.clear()
            self._holding.clear()
        self._out.extend(record_session_id(r) for r in held)
        self._drain()
        return self._shutdown(timeout)  # type: ignore[no-any-return]

    def after_fork_in_child(self) -> None:
        """The parent's holds and decisions stay the parent's."""
        self._reset()
        self._after_fork()


def install(pipeline: Any, sample_rate: float, keep_errors: bool) -> Sampler | None:
    """Put a sampler in front of ``pipeline`` when ``sample_rate < 1``; None otherwise."""
    if sample_rate >= 1.0:
        return None
    # Half the buffer: a released hold then fits beside what is already pending.
    sampler = Sampler(pipeline, sample_rate, keep_errors, max(1, pipeline.max_queue // 2))
    pipeline.emit = sampler.emit
    pipeline.status = sampler.status
    pipeline.shutdown = sampler.shutdown
    pipeline.after_fork_in_child = sampler.after_fork_in_child
    pipeline.sampler = sampler
    return sampler
