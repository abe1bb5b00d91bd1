"""Events a user adds by hand with ``agentlog.add_event(...)``: validated pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DiskEvent", "Event", "TextEvent"]


class Event(BaseModel):
    """Any event: a non-empty ``type`` (built-in or your own) and a JSON-object ``data``."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1)
    name: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        return self.data


class TextEvent(BaseModel):
    """A free-form note on the timeline: ``text`` is required."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(default="text", frozen=True)
    text: str
    name: str | None = None

    @field_validator("type")
    @classmethod
    def _fixed(cls, v: str) -> str:
        if v != "text":
            raise ValueError("TextEvent.type is always 'text'")
        return v

    def to_data(self) -> dict[str, Any]:
        return {"text": self.text}


class DiskEvent(BaseModel):
    """A file the agent read or wrote: ``disk_id`` and ``path`` required, ``note`` optional."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(default="disk", frozen=True)
    disk_id: str
    path: str
    note: str | None = None
    name: str | None = None

    @field_validator("type")
    @classmethod
    def _fixed(cls, v: str) -> str:
        if v != "disk":
            raise ValueError("DiskEvent.type is always 'disk'")
        return v

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"disk_id": self.disk_id, "path": self.path}
        if self.note is not None:
            data["note"] = self.note
        return data
