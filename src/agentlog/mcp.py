"""``agentlog mcp``: recorded sessions and the query primitives as MCP tools, over stdio.

``build_server(client)`` makes the server over any ``agentlog.Client`` (the local store, a
store URL or a collector); ``serve(client)`` runs it on stdin/stdout. The usage guide is the
resource ``agentlog://guide``. Needs the ``mcp`` extra (``pip install 'agentlog[mcp]'``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from ._errors import AgentlogError
from ._family import child_sessions
from ._hints import install_hint
from ._mcp_guide import GUIDE, INSTRUCTIONS
from ._mcp_judging import register as register_judging
from ._timeline import render_timeline

__all__ = ["GUIDE", "build_server", "serve"]

GUIDE_URI = "agentlog://guide"

SessionId = Annotated[
    str,
    Field(
        description="A session id, as listed by list_sessions, or a unique prefix of it "
        "(8 characters or more)."
    ),
]
Types = Annotated[
    list[str] | None,
    Field(
        description="Only these event types (tool_call, llm_call, decision, error, text, disk, "
        "step, or custom ones like compaction) and/or message roles (user, "
        "assistant, tool, system). Omit for all."
    ),
]
Cursor = Annotated[
    str | None, Field(description="The next_cursor of the previous call, to read the next page.")
]
Days = Annotated[float, Field(gt=0, description="How many days back from now to look.")]


def _sdk() -> tuple[Any, type[Exception]]:
    """The server class and its ToolError: ``MCPServer`` in mcp 2, ``FastMCP`` in mcp 1."""
    try:
        server = importlib.import_module("mcp.server.mcpserver")
        errors = importlib.import_module("mcp.server.mcpserver.exceptions")
        return server.MCPServer, errors.ToolError
    except ImportError:
        pass
    try:
        server = importlib.import_module("mcp.server.fastmcp")
        errors = importlib.import_module("mcp.server.fastmcp.exceptions")
    except ImportError as exc:
        raise AgentlogError(f"agentlog mcp needs the MCP SDK: {install_hint('mcp')}") from exc
    return server.FastMCP, errors.ToolError


def _json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def build_server(client: Any) -> Any:
    """An MCP server whose tools read through ``client``."""
    server_cls, tool_error = _sdk()
    from . import __version__

    options: dict[str, Any] = {"name": "agentlog", "instructions": INSTRUCTIONS,
                               "log_level": "WARNING"}  # fmt: skip
    if "version" in inspect.signature(server_cls).parameters:  # mcp 2
        options["version"] = __version__
    server = server_cls(**options)
    lowlevel = getattr(server, "_mcp_server", None)  # mcp 1: the version sits on the inner server
    if lowlevel is not None and hasattr(lowlevel, "version"):
        lowlevel.version = __version__

    def tool(fn: Callable[..., Any]) -> None:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except (AgentlogError, ValueError, ValidationError) as exc:
                # A wrong id or argument: the model reads the message and corrects itself.
                raise tool_error(str(exc)) from exc

        server.add_tool(run, name=fn.__name__, description=fn.__doc__)

    @tool
    def list_sessions(
        user: Annotated[str | None, Field(description="Only this user's sessions.")] = None,
        status: Annotated[
            Literal["running", "success", "error", "cancelled", "timeout"] | None,
            Field(description="Only sessions with this status."),
        ] = None,
        name: Annotated[
            str | None, Field(description="Only sessions with this exact name.")
        ] = None,
        configs: Annotated[
            dict[str, Any] | None,
            Field(
                description="Only sessions whose configs contain this JSON object, e.g. "
                '{"agent": "bot1"} or {"model": {"name": "gpt-4o"}} '
                "(PostgreSQL @> containment: partial, nested, type-sensitive)."
            ),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=200)] = 20,
        cursor: Cursor = None,
        newest_first: bool = True,
        tags: Annotated[
            list[str] | None, Field(description="Only sessions carrying all these tags.")
        ] = None,
        score: Annotated[
            list[str] | None,
            Field(description='Conditions on each session\'s latest score, e.g. ["helpful>=4"].'),
        ] = None,
    ) -> dict[str, Any]:
        """List recorded sessions (runs of an agent), newest first, with filters by user,
        status, name and configs. Each session has its id, name, user, configs, status, start
        and end times and rollups (turns, tokens, tool calls, errors). Use it to find session
        ids for get_timeline, get_events and iterate_events."""
        page = client.sessions.list(
            user=user,
            status=status,
            name=name,
            filter_by_configs=configs,
            limit=limit,
            cursor=cursor,
            time_desc=newest_first,
            tags=tags,
            score=score,
        )
        return {
            "items": _json(page.items),
            "next_cursor": page.next_cursor,
            "has_more": page.has_more,
        }

    @tool
    def get_session(session_id: SessionId) -> dict[str, Any]:
        """One session's details: name, user, configs, status, summary, start/end times and
        rollups (turns, tokens in/out, tool calls, errors)."""
        result: dict[str, Any] = _json(client.sessions.get(session_id))
        return result

    @tool
    def get_timeline(
        session_id: SessionId,
        limit: Annotated[int, Field(ge=1, le=1000, description="Items per page.")] = 200,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """Read what happened in one session, as a compact text timeline: tool calls, LLM
        calls (model, tokens), decisions, errors and messages in order, spans nested under
        their parent, durations, with each item's id in [brackets] (pass an id to
        event_context). The best first look at a session; long sessions come in pages."""
        session = client.sessions.get(session_id)
        it = client.query.iterate_events(session_id=session.id, cursor=cursor, limit=limit)
        head = None
        if cursor is None:
            head = _json(session)
            head["children"] = _json(child_sessions(client, session))
        text = render_timeline(head, _json(it.events), ids=True)
        return {
            "session_id": session.id,
            "timeline": text,
            "items": len(it.events),
            "next_cursor": it.next_cursor,
        }

    @tool
    def get_events(
        session_id: SessionId,
        types: Types = None,
        name: Annotated[
            str | None,
            Field(description="Only events with this name, e.g. a tool name like search_kb."),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=200)] = 50,
        cursor: Cursor = None,
        newest_first: bool = False,
    ) -> dict[str, Any]:
        """The full event records of one session (with their data: tool input/output, LLM
        messages/response/usage, decision options/choice, error stack traces), filtered by
        event type and name, in time order. Messages are not included: use get_messages or
        iterate_events for them."""
        page = client.sessions.get_events(
            session_id, type=types, name=name, limit=limit, cursor=cursor, time_desc=newest_first
        )
        return {
            "items": _json(page.items),
            "next_cursor": page.next_cursor,
            "has_more": page.has_more,
        }

    @tool
    def get_messages(
        session_id: SessionId,
        limit: Annotated[int, Field(ge=1, le=200)] = 50,
        cursor: Cursor = None,
        with_events: Annotated[
            bool,
            Field(description="Also return the events that happened between this page's messages."),
        ] = False,
    ) -> dict[str, Any]:
        """The conversation of one session: its stored messages (role, format, content) in
        order, optionally with the events in between."""
        page = client.sessions.get_messages(
            session_id, limit=limit, cursor=cursor, with_events=with_events
        )
        return {
            "items": _json(page.items),
            "events": _json(page.events),
            "next_cursor": page.next_cursor,
            "has_more": page.has_more,
        }

    @tool
    def event_context(
        event_id: Annotated[
            str,
            Field(
                description="An event or message id, or a unique prefix of it "
                "(8 characters or more)."
            ),
        ],
        before: Annotated[int, Field(ge=0, le=1000)] = 5,
        after: Annotated[int, Field(ge=0, le=1000)] = 5,
    ) -> dict[str, Any]:
        """What happened around one event or message: the item itself, the `before` items
        before it and the `after` items after it in the same session, in timeline order
        (events and messages). Use it to see what led to an error or a decision."""
        result: dict[str, Any] = _json(
            client.query.event_context(event_id, before=before, after=after)
        )
        return result

    @tool
    def event_counts(
        days: Days = 7,
        bucket: Annotated[
            Literal["minute", "hour", "day", "session"],
            Field(
                description="Count per time bucket (labelled by its start, oldest first) or "
                "per session (most first)."
            ),
        ] = "hour",
        type: Annotated[
            str | None, Field(description="Only this event type or message role.")
        ] = None,
        name: Annotated[str | None, Field(description="Only events with this name.")] = None,
        status: Annotated[
            Literal["ok", "error"] | None,
            Field(
                description="error: only failures, as the session rollups count them (error "
                "events and failed spans such as a tool or LLM call that raised); ok: the rest. "
                "Messages have no status and are left out."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Count events and messages over time or per session: e.g. tool calls per hour,
        failures per day (status="error"), user messages per session, calls to one tool
        (name). Empty buckets are omitted. `total` is the sum over all buckets."""
        rows = client.query.event_counts(days=days, bucket=bucket, type=type, name=name,
                                         status=status)  # fmt: skip
        return {"counts": _json(rows), "total": sum(r.count for r in rows)}

    @tool
    def events_between_markers(
        marker_types: Annotated[
            list[str],
            Field(
                min_length=1,
                description='Event types that cut a session into segments, e.g. ["compaction"].',
            ),
        ] = ["compaction"],  # noqa: B006
        count_type: Annotated[
            str,
            Field(description="The event type or message role counted in each segment, e.g. user."),
        ] = "user",
        days: Days = 7,
    ) -> dict[str, Any]:
        """How many events of one type come between markers: e.g. 'how many user turns per
        compaction, on average?' (marker_types=["compaction"], count_type="user": the answer is
        avg_per_marker). Within each session, a marker's segment runs from the previous
        marker (or the session's start) up to the marker. Returns marker_count,
        counted_events, avg_per_marker, median_per_marker, trailing_events (items after a
        session's last marker, not counted) and the per-marker distribution."""
        result: dict[str, Any] = _json(
            client.query.events_between_markers(
                marker_types=marker_types, count_type=count_type, days=days
            )
        )
        return result

    @tool
    def iterate_events(
        session_id: Annotated[
            str | None, Field(description="One session, or omit for every session.")
        ] = None,
        types: Types = None,
        cursor: Cursor = None,
        limit: Annotated[int, Field(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """Walk events AND messages in timeline order (one session, or all sessions), filtered
        by type/role, a page at a time: pass next_cursor back until it is null. Use it for
        questions no other tool answers directly (e.g. every decision with its reasoning)."""
        it = client.query.iterate_events(
            session_id=session_id, types=types, cursor=cursor, limit=limit
        )
        return {"events": _json(it.events), "next_cursor": it.next_cursor}

    register_judging(tool, client)

    def guide() -> str:
        return GUIDE

    server.resource(
        GUIDE_URI,
        name="agentlog usage guide",
        mime_type="text/markdown",
        description="How to answer typical questions about recorded agent "
        "sessions with the agentlog tools.",
    )(guide)

    return server


def serve(client: Any) -> None:
    """Run the MCP server on stdin/stdout until the client disconnects."""
    build_server(client).run("stdio")
