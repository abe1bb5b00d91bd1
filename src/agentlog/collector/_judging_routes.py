"""Scores, cost and comparison as REST: ``/v1/sessions/{id}/scores``, ``/v1/query/cost``,
``/v1/query/compare``. Thin mappings onto the Store, like ``_routes``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from .._records import ScoreValue
from ..store._judging_models import CompareReport, CostReport, Score
from ._errors import ERROR_RESPONSES
from ._routes import P, S, Sid, _Body, _json_param

__all__ = ["router"]

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


class AddScore(_Body):
    name: str = Field(min_length=1, max_length=200)
    value: ScoreValue
    comment: str | None = None
    event_id: str | None = None
    source: str = "client"


@router.post("/sessions/{session_id}/scores", response_model=Score, tags=["scores"])
def add_score(store: S, project: P, session_id: Sid, body: AddScore) -> Score:
    """Score the session (or one of its events): a number, a boolean or a short string."""
    return store.add_score(session_id, body.name, body.value, comment=body.comment,  # type: ignore[attr-defined,no-any-return]
                           event_id=body.event_id, source=body.source, project=project)  # fmt: skip


@router.get("/sessions/{session_id}/scores", response_model=list[Score], tags=["scores"])
def get_scores(store: S, project: P, session_id: Sid, name: str | None = None) -> list[Score]:
    return store.get_scores(session_id, name=name, project=project)  # type: ignore[attr-defined,no-any-return]


@router.get("/query/cost", response_model=CostReport, tags=["query"])
def cost(
    store: S, project: P, days: Annotated[float, Query(gt=0, le=36500)] = 7,
    bucket: Annotated[str, Query(pattern="^(day|hour|session|model|user|config:.+)$")] = "day",
    filter_by_configs: Annotated[str | None, Query(description="JSON object")] = None,
) -> CostReport:  # fmt: skip
    """Cost (exact USD decimals) per day, hour, session, model, user or config value."""
    return store.cost(days=days, bucket=bucket,  # type: ignore[attr-defined,no-any-return]
                      filter_by_configs=_json_param(filter_by_configs, "filter_by_configs"),
                      project=project)  # fmt: skip


@router.get("/query/compare", response_model=CompareReport, tags=["query"])
def compare(
    store: S, project: P, config_key: Annotated[str, Query(min_length=1)],
    scores: Annotated[list[str] | None, Query()] = None,
    days: Annotated[float | None, Query(gt=0, le=36500)] = None,
    filter_by_configs: Annotated[str | None, Query(description="JSON object")] = None,
) -> CompareReport:  # fmt: skip
    """Per value of ``config_key``: sessions, error rate, scores, cost per session, latency."""
    return store.compare(config_key=config_key, scores=scores, days=days,  # type: ignore[attr-defined,no-any-return]
                         filter_by_configs=_json_param(filter_by_configs, "filter_by_configs"),
                         project=project)  # fmt: skip
