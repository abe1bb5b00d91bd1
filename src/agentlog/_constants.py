"""Names of the wire format that the recording path needs without importing pydantic."""

from __future__ import annotations

__all__ = ["EVENT_TYPES", "MESSAGE_FORMATS", "MESSAGE_ROLES", "SESSION_STATUSES", "VERSION"]

VERSION = "0.1.0"  # agentlog.__version__; here so that modules below the package can name it
SESSION_STATUSES = ("running", "success", "error", "cancelled", "timeout")
MESSAGE_FORMATS = ("openai", "anthropic", "raw")
MESSAGE_ROLES = ("user", "assistant", "tool", "system")
EVENT_TYPES = ("tool_call", "llm_call", "decision", "error", "text", "disk", "step")
