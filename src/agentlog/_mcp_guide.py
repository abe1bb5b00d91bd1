"""The usage guide the MCP server publishes as ``agentlog://guide``, and its short instructions."""

from __future__ import annotations

__all__ = ["GUIDE", "INSTRUCTIONS"]

INSTRUCTIONS = (
    "agentlog holds recorded runs of AI agents (sessions) with their events and messages. "
    "Use list_sessions to find sessions, get_timeline to read one, the query tools "
    "(event_counts, events_between_markers, event_context, iterate_events) for statistics, "
    "cost and compare_configs for spend and which configuration does better. "
    "Read the resource agentlog://guide for recipes."
)

GUIDE = """\
# agentlog: answering questions about recorded agent sessions

## What is stored
- A **session** is one run of an agent: `id`, `name`, `user`, `configs` (a JSON object such as
  `{"agent": "bot1", "model": "gpt-4o"}`), `status` (running, success, error, cancelled,
  timeout), `started_at`/`ended_at` (UTC), and rollups (turns, tokens in/out, tool calls,
  errors).
- An **event** is one thing that happened in a session: `type` is `tool_call` (data: input,
  output), `llm_call` (model, messages, response, usage with input/output/total tokens),
  `decision` (options, choice, reasoning, confidence), `error`, `text`, `disk`, `step`, or a
  custom type such as `compaction`. Spans have `duration_ms` and may nest (`parent_id`);
  failed ones have `status: "error"` and an `error` with type, message and stack trace.
- A **message** is one conversation message: `role` (user, assistant, tool, system) and its
  content. In every `type`/`types` filter a message's role counts as its type, so `user`
  selects user messages (user turns).
- Ids are time-ordered; times are RFC 3339 UTC. Any id argument also takes a unique prefix of
  8 characters or more. Lists come in pages of `items`: pass `next_cursor` back as `cursor`
  until it is null.

## Which tool for which question
| Question | Tool call |
|---|---|
| How many user turns per compaction, on average? | `events_between_markers(marker_types=["compaction"], count_type="user")` → `avg_per_marker` (also `median_per_marker`, `distribution`) |
| How many tool calls between two LLM calls? | `events_between_markers(marker_types=["llm_call"], count_type="tool_call")` |
| Which sessions failed? | `list_sessions(status="error")` |
| Sessions of user alice / of agent bot1? | `list_sessions(user="alice")`, `list_sessions(configs={"agent": "bot1"})` |
| What happened in session S? | `get_timeline(session_id=S)` |
| Why did session S fail? | `get_timeline(S)`, find the ✗ item, then `event_context(event_id=<its id>)`; `get_events(S, types=["error"])` for stack traces |
| Which tools did S call, with what arguments? | `get_events(S, types=["tool_call"])` |
| How many tool calls per hour this week? | `event_counts(days=7, bucket="hour", type="tool_call")` |
| How often was the tool search_kb called per day? | `event_counts(bucket="day", name="search_kb")` |
| Which sessions have the most errors? | `event_counts(bucket="session", status="error")` (error events and failed tool/LLM calls; `type="error"` counts error events only) |
| How many user messages in total in the last 30 days? | `event_counts(days=30, bucket="day", type="user")` → `total` |
| Every decision with its reasoning | `iterate_events(types=["decision"])`, following `next_cursor` |
| What did the user say in session S? | `get_messages(S)` or `iterate_events(session_id=S, types=["user"])` |
| What did we spend per day / per model / per agent? | `cost(bucket="day")`, `cost(bucket="model")`, `cost(bucket="config:agent")` → `total_usd` (exact decimal strings); `unpriced_models` lists calls no price list knows |
| Which agent version does better and costs less? | `compare_configs(config_key="agent", scores=["helpful"])` → per value: error_rate, scores avg/median, cost_per_session, latency p50/p90/p99 |
| How was session S rated? | `get_scores(session_id=S)`; sessions rated well: `list_sessions(score=["helpful>=4"])`; tagged ones: `list_sessions(tags=["beta"])` |

## Semantics worth knowing
- `events_between_markers`: within each session, marker *i*'s segment runs from the previous
  marker (or the session's first item in the window) up to marker *i*; its count is the
  `count_type` items in it. Items after a session's last marker are `trailing_events` and are
  not in the average. Sessions without markers contribute only trailing events.
- `event_counts` omits empty buckets; time buckets are labelled by their start (UTC).
- `days` always counts back from now; widen it (e.g. `days=365`) for older data.
- Cost is priced when a call is stored (bundled genai-prices data, or the operator's overrides,
  or the `cost_usd` the caller recorded). A session's score for a name is its latest one.
- An unknown id or a bad argument comes back as an error message naming the problem.
"""
