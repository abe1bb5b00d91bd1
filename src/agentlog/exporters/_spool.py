"""A crash-safe on-disk spool of batches a remote exporter could not deliver yet.

One file per batch, JSON Lines, named ``<time_ns>-<owner>-<seq>.jsonl`` so that names sort in
write order. A file is written under a hidden temporary name, fsync'd, then renamed into place:
readers never see a half-written batch. Sending a file requires its *claim*, an exclusive
``flock`` on the open file, so two processes sharing a spool never send one file twice; a claim
dies with its process, so a batch being sent by a process that crashed is free again.

Every process using the spool holds a lock on its own ``<owner>.owner`` file while it lives. A
process sends its own files, in order, and the files of owners that are gone (their owner file
is missing or unlocked): it never races a live process for that process's backlog. The temporary
files of owners that are gone are removed when a spool is opened: their writer died mid-write.

Each destination has a directory of its own under the spool root (``destination_dir``), named by
a salted hash of the endpoint and the API key: a run with another key or endpoint never sees,
sends or deletes another destination's batches, and the key itself is never written to disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson

try:  # POSIX; elsewhere claims only hold within one process (see docs/exporters.md)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["Spool", "SpoolFile", "destination_dir", "record_session_id"]

_SUFFIX = ".jsonl"
_OWNER_SUFFIX = ".owner"
# Without flock (Windows) a writer's liveness cannot be told: its temporary files go after this.
_STALE_TMP_SECONDS = 3600.0
# A spool that could not be opened is tried again at most this often (not on every batch).
_REOPEN_SECONDS = 5.0


def destination_dir(root: str | os.PathLike[str], kind: str, url: str, key: str | None) -> Path:
    """The spool directory of one destination: ``<root>/<kind>-<digest>``.

    The digest is a salted PBKDF2 hash of the endpoint and the key, so the directory name
    tells destinations apart without putting the key, or a cheap-to-search hash of it, on disk.
    """
    secret = f"{url}\n{key or ''}".encode()
    digest = hashlib.pbkdf2_hmac("sha256", secret, b"agentlog-spool:" + kind.encode(), 1000, 12)
    return Path(root) / f"{kind}-{digest.hex()}"


def _public_url(url: str) -> str:
    """The endpoint without credentials (``user:password@``), for the directory's label."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return scheme + sep + host.rpartition("@")[2] + slash + path


# The pipeline writes these keys first, in this order: reading the session id off the front of
# the line is several times cheaper than decoding it, which matters when draining 100k records.
_FRONT = re.compile(
    rb'\{"v":1,"kind":"(?:(session)","id":"([^"\\]*)"|(?:event|message)","id":"[^"\\]*",'
    rb'"session_id":(?:"([^"\\]*)"|null)[,}])'
)


def record_session_id(line: bytes) -> str | None:
    m = _FRONT.match(line)
    if m is not None:
        sid = m.group(2) if m.group(1) else m.group(3)
        return sid.decode() if sid is not None else None
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(rec, dict):
        return None
    sid = rec.get("id") if rec.get("kind") == "session" else rec.get("session_id")
    return sid if isinstance(sid, str) else None


def _try_lock(fd: int) -> bool:
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _owner_of(name: str) -> str:
    parts = name.split("-")
    return parts[1] if len(parts) == 3 else ""


@dataclass
class SpoolFile:
    """A claimed spool file: its batch may be sent by the holder, and only by the holder."""

    path: Path
    owner: str
    lines: list[bytes]
    size: int
    _fd: int | None = field(default=None, repr=False)

    @property
    def session_ids(self) -> list[str | None]:
        return [record_session_id(line) for line in self.lines]

    def complete(self) -> None:
        """The batch is settled (delivered or refused for good): remove it, then drop the claim."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.release()

    def release(self) -> None:
        """Give the claim up, keeping the file for a later attempt (by anyone)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)  # closing, not LOCK_UN: a forked child may share the description

    def forget(self) -> None:
        """In a forked child: close the inherited descriptor without touching the lock."""
        self.release()


class Spool:
    def __init__(self, directory: str | os.PathLike[str], *, max_bytes: int) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._seq = itertools.count()
        self._approx_bytes: int | None = None
        self.owner = ""
        self._owner_fd: int | None = None
        self._reopen_at = 0.0
        self._label: str | None = None

    # -- ownership ---------------------------------------------------------------------------

    def open(self, label: str | None = None) -> None:
        """Create the directory and announce this process as a live owner.

        ``label``: the destination's endpoint, written (without credentials) to ``endpoint`` in
        the directory so that a person can tell the directories apart.
        """
        self._reopen_at = time.monotonic() + _REOPEN_SECONDS
        self._label = label
        self.directory.mkdir(parents=True, exist_ok=True)
        owner = f"{os.getpid()}.{secrets.token_hex(6)}"
        # Locked under a name nobody scans, then renamed: another process never sees our owner
        # file unlocked (it would take us for dead, and remove our temporary files).
        tmp = self.directory / f".{owner}{_OWNER_SUFFIX}.new"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _try_lock(fd)
            os.replace(tmp, self.directory / f"{owner}{_OWNER_SUFFIX}")
        except OSError:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self.owner = owner
        self._owner_fd = fd
        self._seq = itertools.count()
        self._clean_stale()
        if label is not None and not (self.directory / "endpoint").exists():
            with contextlib.suppress(OSError):
                (self.directory / "endpoint").write_text(_public_url(label) + "\n")

    def ensure_open(self) -> None:
        """Open the spool if an earlier attempt failed (at most every few seconds); or raise."""
        if self.owner:
            return
        if time.monotonic() < self._reopen_at:
            raise OSError(f"spool {self.directory} is unusable")
        self.open(self._label)

    def close(self) -> None:
        fd, self._owner_fd = self._owner_fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.directory / f"{self.owner}{_OWNER_SUFFIX}")
            with contextlib.suppress(OSError):
                os.close(fd)

    def after_fork_in_child(self) -> None:
        """The child drops the parent's owner lock (without unlocking it) and becomes a new owner."""
        fd, self._owner_fd = self._owner_fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._approx_bytes = None
        self.owner = ""
        self.open(self._label)

    def owner_alive(self, owner: str) -> bool:
        if owner == self.owner:
            return True
        path = self.directory / f"{owner}{_OWNER_SUFFIX}"
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            return False
        try:
            if fcntl is None:  # pragma: no cover - Windows: cannot tell, so leave its files alone
                return True
            if _try_lock(fd):  # nobody holds it: that process is gone
                with contextlib.suppress(OSError):
                    os.unlink(path)
                return False
            return True
        finally:
            os.close(fd)

    def _clean_stale(self) -> None:
        """Remove what crashed processes left: their temporary files and their owner files.

        A temporary file whose writer is gone was cut off mid-write: it can never be renamed
        into place, so it goes now, not after an hour.
        """
        cutoff = time.time() - _STALE_TMP_SECONDS
        alive: dict[str, bool] = {}
        for entry in self._scan(hidden=True):
            owner = _owner_of(entry.name[1:])
            if owner not in alive:
                alive[owner] = bool(owner) and self.owner_alive(owner)
            with contextlib.suppress(OSError):
                if not alive[owner] or entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
        with contextlib.suppress(OSError):
            for entry in list(os.scandir(self.directory)):
                if entry.name.endswith(_OWNER_SUFFIX) and not entry.name.startswith("."):
                    self.owner_alive(entry.name[: -len(_OWNER_SUFFIX)])  # unlinks a dead one
                elif entry.name.endswith(_OWNER_SUFFIX + ".new"):  # died between lock and rename
                    self._clean_new_owner(entry)

    def _clean_new_owner(self, entry: os.DirEntry[str]) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(entry.path, os.O_RDWR)
            try:
                if _try_lock(fd) and fcntl is not None:
                    os.unlink(entry.path)
            finally:
                os.close(fd)

    # -- listing -----------------------------------------------------------------------------

    def _scan(self, *, hidden: bool = False) -> Iterator[os.DirEntry[str]]:
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        for entry in entries:
            if entry.name.endswith(_SUFFIX) and entry.name.startswith(".") == hidden:
                yield entry

    def files(self) -> list[Path]:
        """Every spooled batch, oldest first."""
        return sorted((Path(e.path) for e in self._scan()), key=lambda p: p.name)

    def sendable(self) -> list[Path]:
        """This process's files and those of owners that are gone, oldest first."""
        alive: dict[str, bool] = {}
        out = []
        for path in self.files():
            owner = _owner_of(path.name)
            if owner not in alive:
                alive[owner] = owner == self.owner or not self.owner_alive(owner)
            if alive[owner]:
                out.append(path)
        return out

    def total_bytes(self) -> int:
        total = 0
        for entry in self._scan():
            with contextlib.suppress(OSError):
                total += entry.stat().st_size
        self._approx_bytes = total
        return total

    # -- writing and claiming ----------------------------------------------------------------

    def write(self, lines: list[bytes], *, claim: bool = False) -> SpoolFile | None:
        """Persist one batch (fsync'd, atomically renamed); with ``claim``, keep it claimed.

        Raises ``OSError`` when the disk refuses; the caller decides what that costs.
        """
        self.ensure_open()
        data = b"\n".join(lines) + b"\n"
        name = f"{time.time_ns():020d}-{self.owner}-{next(self._seq):08d}{_SUFFIX}"
        tmp = self.directory / f".{name}"
        final = self.directory / name
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            if claim:
                _try_lock(fd)  # before the rename: no other process can claim it first
            os.replace(tmp, final)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._fsync_dir()
        if self._approx_bytes is not None:
            self._approx_bytes += len(data)
        if not claim:
            os.close(fd)
            return None
        return SpoolFile(final, self.owner, list(lines), len(data), fd)

    def _fsync_dir(self) -> None:
        if os.name != "posix":  # pragma: no cover
            return
        with contextlib.suppress(OSError):
            dfd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def claim(self, path: Path) -> SpoolFile | None:
        """Claim one file, or None if another holder has it or it is already gone."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            if not _try_lock(fd):
                os.close(fd)
                return None
            # The previous holder may have completed (unlinked) it before we got the lock.
            if os.stat(path).st_ino != os.fstat(fd).st_ino:
                os.close(fd)
                return None
            with os.fdopen(os.dup(fd), "rb") as f:
                data = f.read()
        except OSError:
            os.close(fd)
            return None
        lines = [line for line in data.split(b"\n") if line]
        return SpoolFile(path, _owner_of(path.name), lines, len(data), fd)

    def make_room(
        self, incoming: int, held: Mapping[Path, SpoolFile] | None = None
    ) -> list[SpoolFile]:
        """Remove the oldest files until ``incoming`` more bytes fit; returns what was dropped.

        ``held``: files the caller has claimed itself, which it may drop. Files claimed by
        someone else (being sent right now) are skipped, never waited for.
        """
        approx = self._approx_bytes
        if approx is not None and approx + incoming <= self.max_bytes:
            return []
        total = self.total_bytes()
        dropped: list[SpoolFile] = []
        if total + incoming <= self.max_bytes:
            return dropped
        for path in self.files():
            victim = held.get(path) if held else None
            victim = victim or self.claim(path)
            if victim is None:
                continue
            victim.complete()
            dropped.append(victim)
            total -= victim.size
            if total + incoming <= self.max_bytes:
                break
        self._approx_bytes = total
        return dropped
