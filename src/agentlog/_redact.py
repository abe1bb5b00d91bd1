"""Redaction of secrets before a record leaves the process.

A screen over the encoded records (a memchr for the rarest letter of each secret fragment, then
one C-level fold and plain substring tests for the fragments whose letter occurs) decides whether
a record needs the slow walk at all, so a batch of secret-free records costs a few scans.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["DEFAULT_KEYS", "DEFAULT_VALUE_PATTERNS", "REDACTED", "Redactor"]

REDACTED = "[REDACTED]"

# Key names are compared after lower-casing and mapping '-' to '_'; a key matches when it is
# one of these or ends with '_' + one of these ("openai_api_key", "x_access_token").
# "token" alone would also hit usage counters, so "input_tokens" (plural) is left alone.
DEFAULT_KEYS = (
    "api_key", "apikey", "authorization", "password", "passwd", "secret", "client_secret",
    "token", "access_token", "refresh_token", "id_token", "auth_token", "session_token",
    "private_key", "cookie", "set_cookie", "x_api_key", "credentials", "credential",
)  # fmt: skip

DEFAULT_VALUE_PATTERNS = (
    r"sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{20,}",  # OpenAI / Anthropic
    r"AKIA[0-9A-Z]{16}",  # AWS access key id
    r"gh[pousr]_[A-Za-z0-9]{36,}",  # GitHub
    r"xox[abprs]-[A-Za-z0-9\-]{10,}",  # Slack
    r"AIza[0-9A-Za-z_\-]{35}",  # Google
    r"(?i:bearer)\s+[A-Za-z0-9._~+/\-]{16,}=*",
)


# Fragments (lower case, '-' as '_') of which every default key name and provider-key shape
# contains at least one.
# A key is secret when its name is, or ends with, one of DEFAULT_KEYS, so in the encoded JSON
# the name is followed by its closing quote: the key fragments carry that quote. 'token"'
# matches "token" and "x_access_token" but not the usage counter "input_tokens", and 'password"'
# matches the key "db_password" but not a prompt that says "reset my password" (a walk of a
# record costs ~50x its screen, and such words are common in what agents record).
_SCREEN = (
    'key"', 'authorization"', 'password"', 'passwd"', 'secret"', 'token"', 'cookie"',
    'credential"', 'credentials"', "sk_", "akia", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox",
    "aiza", "bearer",
)  # fmt: skip
# Verdicts of key_is_secret kept per key name (the walk asks about the same few names over and
# over); past this many names new ones are judged without being kept, so memory stays bounded.
_KEY_MEMO = 4096


_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_QUOTE = ord('"')
# Letters from the rarest to the commonest in recorded payloads (JSON keys and English text):
# each fragment is looked for only where its rarest letter (its gate) occurs at all.
_RARITY = b"zqxjkvbwghyfcmupldsrnioate"


def _gate(fragment: bytes) -> int:
    """The byte of ``fragment`` whose absence rules it out the most often."""
    letters = [c for c in fragment if c in _RARITY]
    return min(letters, key=_RARITY.index) if letters else fragment[0]


def _preimages(byte: int) -> bytes:
    """The bytes of raw text that the fold turns into ``byte``."""
    if 0x61 <= byte <= 0x7A:
        return bytes((byte, byte - 0x20))
    return b"_-" if byte == 0x5F else bytes((byte,))


class Redactor:
    def __init__(
        self,
        *,
        keys: Sequence[str] = (),
        patterns: Sequence[str] = (),
        callback: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
        masking: bool = True,
    ) -> None:
        # masking=False: only the callback runs (init(redact=False, redact_callback=...)).
        self.masking = masking
        self._keys = frozenset(k.lower().replace("-", "_") for k in (*DEFAULT_KEYS, *keys))
        self._suffixes = tuple(sorted("_" + k for k in self._keys))
        self._verdicts: dict[str, bool] = {}
        self._values = re.compile(
            "|".join(f"(?:{p})" for p in (*DEFAULT_VALUE_PATTERNS, *patterns))
        )
        # Cheap screen on the encoded JSON: plain substring tests (memchr-fast) for fragments that
        # every secret key name or provider-key shape contains. A hit only means "look closer";
        # user patterns cannot be screened this way, so they always take the walk.
        self._fragments = tuple(
            f.encode()
            for f in sorted({*_SCREEN, *(k.lower().replace("-", "_") + '"' for k in keys)})
        )
        # One pass folds case and '-' into '_' as the fragments are written, and drops every
        # byte that is in no fragment (digits, punctuation, spaces...): the scans then read a
        # third less. Dropping a byte can join what it separated (a false alarm, a walk for
        # nothing) but never splits a fragment, so nothing that needs a walk is missed; a key
        # fragment found there is confirmed in the text as it is (see needs_walk).
        # The fragments by gate. A fragment is in the folded text only if its gate is, and the
        # gate only if one of its preimages is in the raw text: a memchr each (a few
        # instructions a record) rule out the fold and most scans for the common payload.
        groups: dict[int, list[bytes]] = {}
        for fragment in self._fragments:
            groups.setdefault(_gate(fragment), []).append(fragment)
        self._groups = tuple((bytes((g,)), tuple(fs)) for g, fs in sorted(groups.items()))
        self._raw_gates = tuple(bytes((c,)) for g in sorted(groups) for c in _preimages(g))
        alphabet = frozenset(b"".join(self._fragments))
        self._fold = bytes.maketrans(_UPPER + b"-", _UPPER.lower() + b"_")
        self._drop = bytes(c for c in range(256) if self._fold[c] not in alphabet)
        self._always_walk = bool(patterns)
        self.callback = callback

    def key_is_secret(self, key: str) -> bool:
        verdict = self._verdicts.get(key)
        if verdict is None:
            norm = key.lower().replace("-", "_")
            verdict = norm in self._keys or norm.endswith(self._suffixes)
            if len(self._verdicts) < _KEY_MEMO:  # a race past the bound adds a few: harmless
                self._verdicts[key] = verdict
        return verdict

    def needs_walk(self, encoded: bytes) -> bool:
        """False only when ``encoded`` (one record or many) certainly holds nothing to redact."""
        if not self.masking:
            return False
        if self._always_walk:
            return True
        for raw_gate in self._raw_gates:
            if raw_gate in encoded:
                break
        else:
            return False
        low = encoded.translate(self._fold, self._drop)
        exact = None
        for gate, fragments in self._groups:
            if gate in low:
                for fragment in fragments:
                    if fragment in low:
                        if fragment[-1] != _QUOTE:
                            return True
                        # A key fragment: the drop may have joined a word of some text to
                        # a later quote ('my password?"'). A key name is followed by its quote
                        # in the encoded JSON itself: look there, case folded, nothing dropped.
                        if exact is None:
                            exact = encoded.translate(self._fold)
                        if fragment in exact:
                            return True
        return False

    def redact(self, value: Any) -> Any:
        """Return a copy of a JSON value with secret keys and secret-shaped strings masked."""
        if isinstance(value, str):
            return self._values.sub(REDACTED, value)
        if isinstance(value, dict):
            return {
                k: (REDACTED if value_is_set(v) and self.key_is_secret(k) else self.redact(v))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.redact(v) for v in value]
        return value


def value_is_set(value: Any) -> bool:
    # A null or empty secret field says "no key configured": keep it, it is useful and safe.
    return value is not None and value != ""
