"""A session's child sessions (those whose ``parent_session_id`` names it), for the timeline
views of the CLI and MCP, through any Client."""

from __future__ import annotations

from typing import Any

__all__ = ["child_sessions"]

_PAGE = 200
_MAX_PAGES = 25  # 5000 newer sessions: enough for any live view, bounded for a huge store


def child_sessions(client: Any, session: Any) -> list[Any]:
    """Children start after their parent: the listing is walked newest first down to the
    parent's start, so a recent session costs a page or two. Oldest child first."""
    start = session.started_at
    found: list[Any] = []
    cursor = None
    for _ in range(_MAX_PAGES):
        page = client.sessions.list(limit=_PAGE, cursor=cursor, time_desc=True)
        for s in page.items:
            if start is not None and s.started_at is not None and s.started_at < start:
                return found[::-1]
            if s.parent_session_id == session.id:
                found.append(s)
        if not page.has_more:
            break
        cursor = page.next_cursor
    return found[::-1]
