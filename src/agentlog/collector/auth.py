"""API keys: bearer tokens mapped to projects.

Keys come from ``AGENTLOG_API_KEYS="key1:project-a,key2:project-b"`` and/or a keys file with
one ``key:project`` per line (``#`` starts a comment). A file line may hold the key's SHA-256
instead of the key itself (``sha256:<hex>:project``), which is what ``agentlog keys create``
writes: the file then never holds a usable secret. Keys are compared by their digest, so the
lookup takes the same time whichever key is presented.

The keys file is read again when it changes, so keys added by ``agentlog keys create`` take
effect on every running collector without a restart.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "KEYS_ENV",
    "KeyRing",
    "create_key",
    "digest",
    "parse_keys",
    "valid_project",
]

KEYS_ENV = "AGENTLOG_API_KEYS"
_PROJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_HEX = re.compile(r"[0-9a-f]{64}")
# How often the keys file's modification time is checked (seconds).
_RECHECK = 1.0


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def valid_project(name: str) -> bool:
    return _PROJECT.fullmatch(name) is not None


def parse_keys(text: str, *, source: str, sep: str = "\n") -> dict[str, str]:
    """``{sha256(key): project}`` from ``key:project`` entries; ``ValueError`` names the bad one."""
    out: dict[str, str] = {}
    for n, raw in enumerate(text.split(sep), start=1):
        entry = raw.split("#", 1)[0].strip() if sep == "\n" else raw.strip()
        if not entry:
            continue
        key, colon, project = entry.rpartition(":")
        where = f"{source} entry {n}"
        if not colon or not key:
            raise ValueError(f"{where}: expected key:project")
        if not valid_project(project):
            raise ValueError(
                f"{where}: project {project!r} must be 1-100 letters, digits, '.', '_' or '-'"
            )
        if key.startswith("sha256:"):
            hexd = key[len("sha256:") :].lower()
            if not _HEX.fullmatch(hexd):
                raise ValueError(f"{where}: sha256: must be followed by 64 hex digits")
            out[hexd] = project
        else:
            if len(key) < 8:
                raise ValueError(f"{where}: a key must be at least 8 characters")
            out[digest(key)] = project
    return out


@dataclass
class KeyRing:
    """The keys a collector accepts: from the environment value and a file, the file re-read
    when it changes. ``project_for(key)`` is None for an unknown key."""

    env: str | None = None
    path: Path | None = None
    _file_keys: dict[str, str] = field(default_factory=dict)
    _env_keys: dict[str, str] = field(default_factory=dict)
    _sig: tuple[int, int, int] | None = None
    _checked: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.env:
            self._env_keys = parse_keys(self.env, source=KEYS_ENV, sep=",")
        if self.path is not None:
            self._reload(force=True)

    @classmethod
    def from_env(cls, *, path: str | os.PathLike[str] | None = None) -> KeyRing:
        return cls(env=os.environ.get(KEYS_ENV), path=None if path is None else Path(path))

    def __len__(self) -> int:
        self._maybe_reload()
        return len(self._env_keys) + len(self._file_keys)

    def projects(self) -> set[str]:
        self._maybe_reload()
        return set(self._env_keys.values()) | set(self._file_keys.values())

    def describe(self) -> str:
        """Where the keys come from and what they open, for the collector's start-up log."""
        self._maybe_reload()
        sources = []
        if self.path is not None:
            sources.append(f"{len(self._file_keys)} from {self.path}")
        if self.env:
            sources.append(f"{len(self._env_keys)} from ${KEYS_ENV}")
        projects = sorted(self.projects())
        return (f"{len(self)} API keys ({', '.join(sources) or 'none'}) for "
                f"{len(projects)} project{'s' if len(projects) != 1 else ''}: "
                f"{', '.join(projects)}")  # fmt: skip

    def project_for(self, key: str) -> str | None:
        self._maybe_reload()
        d = digest(key)
        return self._env_keys.get(d) or self._file_keys.get(d)

    def _maybe_reload(self) -> None:
        if self.path is None or time.monotonic() - self._checked < _RECHECK:
            return
        try:
            self._reload(force=False)
        except (OSError, ValueError):
            # A half-written or broken file keeps the keys that were valid until now.
            from .._log import warn_once

            warn_once(f"keys-reload:{self.path}", "agentlog collector: cannot re-read %s",
                      self.path)  # fmt: skip

    def _reload(self, *, force: bool) -> None:
        assert self.path is not None
        with self._lock:
            self._checked = time.monotonic()
            st = self.path.stat()
            sig = (st.st_ino, st.st_size, st.st_mtime_ns)
            if not force and sig == self._sig:
                return
            self._file_keys = parse_keys(self.path.read_text("utf-8"), source=str(self.path))
            self._sig = sig


def create_key(project: str, *, path: str | os.PathLike[str] | None = None) -> str:
    """A new random key for ``project``; with ``path``, its digest is appended to that keys
    file (created with mode 0600). Returns the key: it is shown once and stored nowhere."""
    if not valid_project(project):
        raise ValueError(f"project {project!r} must be 1-100 letters, digits, '.', '_' or '-'")
    key = "al_" + secrets.token_urlsafe(32)
    if path is not None:
        # A keys file belongs in a private directory: one missing is made, readable by its
        # owner only (existing directories are left as they are).
        Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        line = f"sha256:{digest(key)}:{project}\n".encode()
        fd = os.open(os.fspath(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)  # one write of one line: safe against concurrent appenders
        finally:
            os.close(fd)
    return key
