"""``HttpTransport``: the Client's operations as requests to a collector.

Each Store operation maps to one REST call (the routes of ``agentlog.collector``); results come
back as JSON and the Client validates them into the same models as in-process. Error answers
become the same exceptions the Store raises: 404 ``NotFoundError``, 409 ``ConflictError``,
400/422 ``InvalidInputError``; anything else is a ``CollectorError`` carrying the status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from ._errors import AgentlogError, ConflictError, InvalidInputError, NotFoundError
from .store._scores import score_params

__all__ = ["CollectorError", "HttpTransport"]

Params = dict[str, Any]
# op -> (method, path template, what goes where); a template names its path parameter.
_Route = tuple[str, str, Callable[[Params], tuple[Params | None, Any]]]


class CollectorError(AgentlogError):
    """The collector answered an error other than not-found, conflict or bad input (e.g. 401
    for a missing or wrong API key, 503 while its store is down), or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _present(p: Params) -> Params:
    return {k: v for k, v in p.items() if v is not None}


def _query(p: Params) -> tuple[Params | None, Any]:
    return _present(p), None


def _body(p: Params) -> tuple[Params | None, Any]:
    return None, p


def _json_query(p: Params) -> tuple[Params | None, Any]:
    q = _present(p)
    for name in ("filter_by_configs",):
        if q.get(name) is not None:
            q[name] = orjson.dumps(q[name]).decode()
    if q.get("score") is not None:
        q["score"] = score_params(q["score"])
    return q, None


def _events_query(p: Params) -> tuple[Params | None, Any]:
    q = _present(p)
    if isinstance(q.get("type"), str):
        q["type"] = [q["type"]]
    return q, None


def _configs(p: Params) -> tuple[Params | None, Any]:
    return None, {"configs": p.get("configs", p.get("patch"))}


def _none(p: Params) -> tuple[Params | None, Any]:
    return None, None


_ROUTES: dict[str, _Route] = {
    "create_session": ("POST", "/v1/sessions", _body),
    "get_session": ("GET", "/v1/sessions/{session_id}", _none),
    "list_sessions": ("GET", "/v1/sessions", _json_query),
    "delete_session": ("DELETE", "/v1/sessions/{session_id}", _none),
    "copy_session": ("POST", "/v1/sessions/{session_id}/copy", _none),
    "close_session": ("POST", "/v1/sessions/{session_id}/close", _body),
    "get_configs": ("GET", "/v1/sessions/{session_id}/configs", _none),
    "update_configs": ("PUT", "/v1/sessions/{session_id}/configs", _configs),
    "patch_configs": ("PATCH", "/v1/sessions/{session_id}/configs", _configs),
    "add_event": ("POST", "/v1/sessions/{session_id}/events", _body),
    "get_events": ("GET", "/v1/sessions/{session_id}/events", _events_query),
    "store_message": ("POST", "/v1/sessions/{session_id}/messages", _body),
    "get_messages": ("GET", "/v1/sessions/{session_id}/messages", _query),
    "messages_observing_status": ("GET", "/v1/sessions/{session_id}/messages/status", _none),
    "flush": ("POST", "/v1/sessions/{session_id}/flush", _none),
    "event_context": ("GET", "/v1/events/{event_id}/context", _query),
    "event_counts": ("GET", "/v1/query/event_counts", _query),
    "events_between_markers": ("GET", "/v1/query/events_between_markers", _query),
    "iterate_events": ("GET", "/v1/query/iterate_events", _query),
    "add_score": ("POST", "/v1/sessions/{session_id}/scores", _body),
    "get_scores": ("GET", "/v1/sessions/{session_id}/scores", _query),
    "cost": ("GET", "/v1/query/cost", _json_query),
    "compare": ("GET", "/v1/query/compare", _json_query),
}
# Results wrapped in {"configs": ...} on the wire.
_UNWRAP = {"get_configs", "update_configs", "patch_configs"}


class HttpTransport:
    """Talks to ``base_url`` with ``api_key`` as a bearer token. ``timeout`` in seconds."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 30.0,
                 headers: dict[str, str] | None = None,
                 client: httpx.Client | None = None) -> None:  # fmt: skip
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        hdrs = {"Accept": "application/json", **(headers or {})}
        if api_key:
            hdrs["Authorization"] = f"Bearer {api_key}"
        self._client = client or httpx.Client(base_url=self.base_url, timeout=timeout,
                                              headers=hdrs)  # fmt: skip
        if client is not None:
            self._client.headers.update(hdrs)

    def call(self, op: str, params: dict[str, Any]) -> Any:
        try:
            method, template, split = _ROUTES[op]
        except KeyError:
            raise ValueError(f"unknown operation {op!r}") from None
        params = dict(params)
        path = template
        for name in ("session_id", "event_id"):
            if "{" + name + "}" in path:
                path = path.replace("{" + name + "}", quote(str(params.pop(name)), safe=""))
        query, body = split(params)
        try:
            response = self._client.request(
                method, path, params=query,
                content=None if body is None else orjson.dumps(body),
                headers=None if body is None else {"Content-Type": "application/json"},
            )  # fmt: skip
        except httpx.HTTPError as exc:
            raise CollectorError(f"collector at {self.base_url} unreachable: {exc}") from exc
        if response.status_code >= 400:
            raise _error(response)
        if response.status_code == 204 or not response.content:
            return None
        data = orjson.loads(response.content)
        return data["configs"] if op in _UNWRAP else data

    def close(self) -> None:
        self._client.close()


def _error(response: httpx.Response) -> AgentlogError:
    status = response.status_code
    try:
        message = str(orjson.loads(response.content)["error"]["message"])
    except Exception:
        message = response.text.strip()[:500] or response.reason_phrase
    if status == 404:
        return NotFoundError(message)
    if status == 409:
        return ConflictError(message)
    if status in (400, 413, 422):
        return InvalidInputError(message)
    return CollectorError(f"HTTP {status}: {message}", status=status)
