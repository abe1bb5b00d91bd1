"""Records a database cannot store, found so that they are refused on their own.

A string with a NUL character cannot go into PostgreSQL (neither text nor JSONB), and one with a
lone surrogate (``"\\ud800"``, which a Python caller can build but JSON cannot carry) is not
UTF-8 for either backend; nor can a value nested deeper than Python's stack allows checking
and writing it. Such a record would fail its whole batch; ingest instead tries the
batch as it is, and only when that fails walks it (``screen``), refuses these records with the
field that holds the value, and stores the rest. The collector refuses NUL before that, on
every backend alike (its body is scanned once for the escape).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._models import IngestResult, RejectedRecord

__all__ = ["MAX_DEPTH", "find_nul", "refusal", "screen", "too_deep", "with_refused"]


_NUL = "contains a NUL character (\\u0000), which cannot be stored"
_SURROGATE = "contains a lone surrogate, which is not valid UTF-8 and cannot be stored"
# Nesting past this is refused: checking and writing a value recurses once per level, and
# Python's stack ends near 1,000 (JSON from the wire stops at 1,024, the SDK writes at most 254).
MAX_DEPTH = 500
_DEEP = f"is nested more than {MAX_DEPTH} levels deep, which cannot be stored"


def _nul(text: str) -> str | None:
    return _NUL if "\x00" in text else None


def _any(text: str) -> str | None:
    """What in ``text`` neither backend can store (a NUL aside), else None."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return _SURROGATE
    return None


def _both(text: str) -> str | None:
    return _nul(text) or _any(text)


def _find(
    value: Any, path: str, bad: Callable[[str], str | None], depth: int = 0
) -> tuple[str, str] | None:
    """(path, reason) of the first string or key in ``value`` that ``bad`` finds a reason in,
    or of a container nested deeper than ``MAX_DEPTH``."""
    if depth > MAX_DEPTH:
        return path, _DEEP
    if isinstance(value, str):
        why = bad(value)
        return None if why is None else (path or "value", why)
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            why = bad(k) if isinstance(k, str) else None
            if why is not None:
                return sub, why
            found = _find(v, sub, bad, depth + 1)
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _find(v, f"{path}[{i}]", bad, depth + 1)
            if found is not None:
                return found
    return None


def _no_string_check(text: str) -> str | None:
    return None


def too_deep(value: Any) -> str | None:
    """``path: reason`` when ``value`` nests deeper than ``MAX_DEPTH``, else None."""
    found = _find(value, "", _no_string_check)
    return None if found is None else f"{found[0]}: {found[1]}"


def find_nul(value: Any, path: str = "") -> str | None:
    """The path of the first string (or key) holding a NUL character, else None."""
    found = _find(value, path, _nul)
    return None if found is None else found[0]


def screen(records: Sequence[Any], *, nul: bool) -> tuple[list[int], list[RejectedRecord]]:
    """The indices of the records to store, and the others refused with the field that holds
    what cannot be stored (NUL characters too when ``nul``; lone surrogates always)."""
    kept: list[int] = []
    refused: list[RejectedRecord] = []
    for i, rec in enumerate(records):
        found = _find(rec, "", _both if nul else _any)
        if found is None:
            kept.append(i)
            continue
        refused.append(refusal(i, rec, f"{found[0]}: {found[1]}"))
    return kept, refused


def refusal(index: int, record: Any, reason: str) -> RejectedRecord:
    """The rejection of the record at ``index``, with its id when it has a string one."""
    rid = record.get("id") if isinstance(record, dict) else None
    return RejectedRecord(index=index, id=rid if isinstance(rid, str) else None, reason=reason)


def with_refused(
    result: IngestResult, kept: list[int], refused: list[RejectedRecord]
) -> IngestResult:
    """The answer for a whole batch from the answer for its ``kept`` records and the refused
    ones: every index is the record's place in the batch as sent."""
    rejected = [r.model_copy(update={"index": kept[r.index]}) for r in result.rejected]
    return IngestResult(accepted=result.accepted,
                        rejected=sorted([*rejected, *refused], key=lambda r: r.index))  # fmt: skip
