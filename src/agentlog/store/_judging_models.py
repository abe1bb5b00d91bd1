"""Result models of cost, scores and comparisons (what the Client returns, the collector sends)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CompareGroup",
    "CompareReport",
    "CostBucket",
    "CostReport",
    "Score",
    "ScoreStats",
    "UnpricedModel",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Score(_Model):
    kind: str = "score"
    id: str
    session_id: str
    event_id: str | None = None
    ts: str
    name: str
    value: bool | int | float | str
    comment: str | None = None
    source: str = "sdk"


class CostBucket(_Model):
    """Totals of one bucket. USD amounts are exact decimals (strings in JSON)."""

    key: str
    calls: int = 0
    unpriced_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    input_usd: Decimal = Decimal(0)
    output_usd: Decimal = Decimal(0)
    total_usd: Decimal = Decimal(0)


class UnpricedModel(_Model):
    model: str | None
    calls: int


class CostReport(_Model):
    bucket: str
    days: float
    buckets: list[CostBucket] = Field(default_factory=list)
    calls: int = 0
    unpriced_calls: int = 0
    total_usd: Decimal = Decimal(0)
    unpriced_models: list[UnpricedModel] = Field(default_factory=list)


class ScoreStats(_Model):
    sessions: int = 0  # sessions of the group that have this score
    avg: float | None = None
    median: float | None = None
    values: dict[str, int] = Field(default_factory=dict)  # categorical scores: value -> sessions


class CompareGroup(_Model):
    """One value of the compared config key (``None``: sessions without that key)."""

    value: Any = None
    sessions: int = 0
    errors: int = 0
    error_rate: float = 0.0
    scores: dict[str, ScoreStats] = Field(default_factory=dict)
    total_usd: Decimal = Decimal(0)
    cost_per_session: Decimal | None = None
    unpriced_calls: int = 0
    latency_p50_ms: float | None = None
    latency_p90_ms: float | None = None
    latency_p99_ms: float | None = None


class CompareReport(_Model):
    config_key: str
    days: float
    groups: list[CompareGroup] = Field(default_factory=list)
