"""Public errors of the store, the collector and the client (exported from ``agentlog``)."""

from __future__ import annotations

__all__ = ["AgentlogError", "ConflictError", "InvalidInputError", "NotFoundError"]


class AgentlogError(Exception):
    """Base of every error agentlog raises on purpose (never while recording)."""


class NotFoundError(AgentlogError, LookupError):
    """The session, event or message does not exist in this project."""


class ConflictError(AgentlogError):
    """The request clashes with stored data, e.g. a session id owned by another project."""


class InvalidInputError(AgentlogError, ValueError):
    """An argument or record is malformed; the message names what was wrong."""
