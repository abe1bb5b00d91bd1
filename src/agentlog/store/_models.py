"""Result models of the store: what the Client returns and what the collector sends as JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field

from .._records import ErrorInfo

__all__ = [
    "Event",
    "EventContext",
    "EventCount",
    "EventsIteration",
    "IndexResult",
    "IngestResult",
    "Item",
    "MarkerSegment",
    "MarkerStats",
    "Message",
    "MessagesPage",
    "ObservingStatus",
    "Page",
    "PruneResult",
    "RejectedRecord",
    "Rollup",
    "Session",
]

T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Rollup(_Model):
    """Per-session figures kept by processing (the message buffer); zero until first processed."""

    turns: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    tool_calls: int = 0
    errors: int = 0
    last_activity: str | None = None
    updated_at: str | None = None
    cost_usd: Decimal = Decimal(0)  # the priced llm_calls, exact (a string in JSON)
    unpriced_calls: int = 0


class Session(_Model):
    id: str
    name: str | None = None
    user: str | None = None
    configs: dict[str, Any] | None = None
    status: str = "running"
    summary: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    parent_session_id: str | None = None
    last_activity_at: str | None = None
    rollup: Rollup = Field(default_factory=Rollup)
    tags: list[str] = Field(default_factory=list)
    scores: dict[str, Any] = Field(default_factory=dict)  # the latest of each name


class Event(_Model):
    kind: Literal["event"] = "event"
    id: str
    session_id: str | None = None
    parent_id: str | None = None
    type: str
    name: str | None = None
    ts: str
    end_ts: str | None = None
    duration_ms: float | None = None
    status: str = "ok"
    partial: bool = False
    data: dict[str, Any] = Field(default_factory=dict)
    error: ErrorInfo | None = None
    trace_id: str | None = None
    span_id: str | None = None


class Message(_Model):
    kind: Literal["message"] = "message"
    id: str
    session_id: str
    ts: str
    role: str
    format: str = "openai"
    blob: Any = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def type(self) -> str:
        """The role: query filters treat a message's role as its type."""
        return self.role


Item = Annotated[Event | Message, Field(discriminator="kind")]
"""One entry of a timeline as the query primitives see it: an event or a message."""


class Page(_Model, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    has_more: bool = False


class MessagesPage(Page[Message]):
    """Messages, and with ``with_events=True`` the events of this page's window of the timeline."""

    events: list[Event] = Field(default_factory=list)


class RejectedRecord(_Model):
    index: int
    id: str | None = None
    reason: str
    # What an HTTP answer for this record alone would be: 422 for a record that is not valid,
    # 409 for one that conflicts with another project's data (a session id it does not own).
    status: int = 422


class IngestResult(_Model):
    accepted: list[str] = Field(default_factory=list)
    rejected: list[RejectedRecord] = Field(default_factory=list)


class PruneResult(_Model):
    """What one ``prune`` removed."""

    sessions: int = 0
    events: int = 0
    messages: int = 0
    # The longest any one step held its locks (from its first statement to its commit): the
    # most that ingest or a read can have waited on this prune at a time.
    longest_step_ms: float = 0.0


class IndexResult(_Model):
    """What one pass of the JSONL indexer read."""

    files: int = 0
    records: int = 0
    accepted: int = 0
    rejected: list[RejectedRecord] = Field(default_factory=list)
    bad_lines: list[str] = Field(default_factory=list)


class ObservingStatus(_Model):
    session_id: str
    observed: int = 0
    in_process: int = 0
    pending: int = 0
    updated_at: str | None = None


class EventContext(_Model):
    target: Item
    before: list[Item] = Field(default_factory=list)
    after: list[Item] = Field(default_factory=list)


class EventCount(_Model):
    bucket: str
    count: int


class MarkerSegment(_Model):
    marker_index: int
    session_id: str
    count: int
    marker_id: str | None = None
    marker_type: str | None = None


class MarkerStats(_Model):
    marker_count: int = 0
    counted_events: int = 0
    avg_per_marker: float | None = None
    median_per_marker: float | None = None
    trailing_events: int = 0
    distribution: list[MarkerSegment] = Field(default_factory=list)


class EventsIteration(_Model):
    events: list[Item] = Field(default_factory=list)
    next_cursor: str | None = None
