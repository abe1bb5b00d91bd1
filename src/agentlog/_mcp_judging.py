"""The MCP tools for cost, scores and comparisons (registered by ``agentlog.mcp``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field

__all__ = ["register"]

Days = Annotated[float, Field(gt=0, description="How many days back from now to look.")]


def register(tool: Callable[[Callable[..., Any]], None], client: Any) -> None:
    """Add the tools to the server through its ``tool`` decorator."""

    @tool
    def cost(
        days: Days = 7,
        bucket: Annotated[str, Field(
            description="day, hour, session, model, user, or config:KEY (e.g. config:agent)")] = "day",
        configs: Annotated[dict[str, Any] | None, Field(
            description='Only sessions whose configs contain this JSON object, e.g. {"env": "prod"}.'
        )] = None,
    ) -> dict[str, Any]:  # fmt: skip
        """What the LLM calls cost in USD (exact decimal strings), per day, hour, session,
        model, user or config value, with token counts. Calls of unknown models are not
        guessed: unpriced_calls counts them and unpriced_models lists them."""
        report = client.query.cost(days=days, bucket=bucket, filter_by_configs=configs)
        result: dict[str, Any] = report.model_dump(mode="json")
        return result

    @tool
    def compare_configs(
        config_key: Annotated[str, Field(description="The config key whose values are compared, "
                                                     "e.g. agent, model or prompt_version.")],
        scores: Annotated[list[str] | None, Field(
            description="Score names to summarize (default: every score recorded).")] = None,
        days: Annotated[float | None, Field(gt=0, description="Look back this many days "
                                                              "(default: all sessions).")] = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Which value of a config key does better and costs less: per value, the number of
        sessions, error rate, average and median of each score (categorical scores as counts),
        cost per session and latency percentiles (p50/p90/p99, ms)."""
        result: dict[str, Any] = client.query.compare(
            config_key=config_key, scores=scores, days=days).model_dump(mode="json")  # fmt: skip
        return result

    @tool
    def get_scores(
        session_id: Annotated[str, Field(description="A session id, as listed by list_sessions.")],
    ) -> dict[str, Any]:
        """Every score of one session (feedback, evaluations: name, value, comment, source,
        and the event it judges, if any), oldest first."""
        return {
            "scores": [s.model_dump(mode="json") for s in client.sessions.get_scores(session_id)]
        }
