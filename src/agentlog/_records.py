"""The wire format (DESIGN §2) as pydantic models: the schema in docs/schema/ is generated here.

The recording hot path does not build these models (it writes plain tuples that the worker
encodes); readers, the store and the collector validate with them.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    field_validator,
)

from ._constants import EVENT_TYPES, MESSAGE_FORMATS, SESSION_STATUSES
from ._ids import parse_ts

__all__ = [
    "EVENT_TYPES",
    "MAX_KEY",
    "MESSAGE_FORMATS",
    "SESSION_STATUSES",
    "ErrorInfo",
    "EventRecord",
    "MessageRecord",
    "Record",
    "ScoreRecord",
    "ScoreValue",
    "SessionRecord",
    "parse_record",
    "record_adapter",
]


SessionStatus = Literal["running", "success", "error", "cancelled", "timeout"]
# The most characters of a value that an index holds (an id, a session a record names, a
# name or role the counts group by, a user): every such value stays far below what one
# PostgreSQL index entry takes (2,704 bytes), so no record can fail its whole batch there.
MAX_KEY = 200
Key = Annotated[str, Field(max_length=MAX_KEY)]
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


def _check_ts(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parse_ts(value)
    except (ValueError, TypeError, OverflowError):  # Overflow: year 1 with a positive offset
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}") from None
    return value


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    v: Literal[1] = 1


class ErrorInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str
    message: str
    stacktrace: str | None = None


class SessionRecord(_Base):
    """A session's start or end. Records with one id merge: later non-null fields win."""

    kind: Literal["session"] = "session"
    id: Annotated[str, Field(min_length=1, max_length=200)]
    name: str | None = None
    user: Key | None = None
    configs: dict[str, Any] | None = None
    status: SessionStatus | None = None
    summary: str | None = None
    started_at: Timestamp | None = None
    ended_at: Timestamp | None = None
    parent_session_id: Key | None = None
    # Tags accumulate: a record's tags are added to those already known (``add_tags``).
    tags: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = None
    # When a reader changed the session (configs PUT/PATCH): that record is then the later one
    # whatever its start and end times, and an explicit ``configs: null`` in it clears them.
    updated_at: Timestamp | None = None

    _ts = field_validator("started_at", "ended_at", "updated_at")(_check_ts)


class EventRecord(_Base):
    kind: Literal["event"] = "event"
    id: Annotated[str, Field(min_length=1, max_length=200)]
    session_id: Key | None = None
    parent_id: str | None = None
    type: Annotated[str, Field(min_length=1, max_length=200)]
    name: Key | None = None
    ts: Timestamp
    end_ts: Timestamp | None = None
    duration_ms: float | None = None
    status: Literal["ok", "error"] = "ok"
    partial: bool = False
    data: dict[str, Any] = Field(default_factory=dict)
    error: ErrorInfo | None = None
    trace_id: str | None = None
    span_id: str | None = None

    _ts = field_validator("ts", "end_ts")(_check_ts)


class MessageRecord(_Base):
    kind: Literal["message"] = "message"
    id: Annotated[str, Field(min_length=1, max_length=200)]
    session_id: Key
    ts: Timestamp
    role: Key
    format: Literal["openai", "anthropic", "raw"] = "openai"
    blob: Any

    _ts = field_validator("ts")(_check_ts)


# A score's value: a number, a boolean, or a short categorical string.
# Integers within 2**53, exact as the floats that filters and averages compare.
ScoreValue = (
    StrictBool
    | Annotated[StrictInt, Field(ge=-(2**53), le=2**53)]
    | StrictFloat
    | Annotated[StrictStr, Field(max_length=200)]
)


class ScoreRecord(_Base):
    """A judgement of a session (or of one of its events): by the SDK, a Client, or the UI."""

    kind: Literal["score"] = "score"
    id: Annotated[str, Field(min_length=1, max_length=200)]
    session_id: Annotated[str, Field(min_length=1, max_length=200)]
    event_id: str | None = None
    ts: Timestamp
    name: Annotated[str, Field(min_length=1, max_length=200)]
    value: ScoreValue
    comment: Annotated[str, Field(max_length=10_000)] | None = None
    source: Literal["sdk", "client", "ui"] = "sdk"

    _ts = field_validator("ts")(_check_ts)

    @field_validator("value")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


AnyRecord = SessionRecord | EventRecord | MessageRecord | ScoreRecord
Record = Annotated[AnyRecord, Field(discriminator="kind")]
record_adapter: TypeAdapter[AnyRecord] = TypeAdapter(Record)


def parse_record(obj: Any) -> AnyRecord:
    """Validate one decoded JSON record; raises ``pydantic.ValidationError`` naming the field."""
    return record_adapter.validate_python(obj)


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schemas published in ``docs/schema/``, by file name."""
    out: dict[str, dict[str, Any]] = {}
    for name, model in (
        ("session", SessionRecord),
        ("event", EventRecord),
        ("message", MessageRecord),
        ("score", ScoreRecord),
    ):
        schema = model.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://agentlog.dev/schema/v1/{name}.schema.json"
        out[f"{name}.schema.json"] = schema
    record = record_adapter.json_schema(mode="validation")
    record["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    record["$id"] = "https://agentlog.dev/schema/v1/record.schema.json"
    record["title"] = "agentlog record (v1)"
    out["record.schema.json"] = record
    return out


def write_schemas(directory: str) -> list[str]:
    """Regenerate ``docs/schema/``: ``python -m agentlog._records docs/schema``."""
    import json
    import os

    written = []
    for name, schema in json_schemas().items():
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(schema, f, indent=2, sort_keys=True)
            f.write("\n")
        written.append(path)
    return written


if __name__ == "__main__":
    import sys

    for written_path in write_schemas(sys.argv[1] if len(sys.argv) > 1 else "docs/schema"):
        print(written_path)
