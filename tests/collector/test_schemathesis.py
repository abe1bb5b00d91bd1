"""Property-based requests generated from the collector's own OpenAPI document: whatever a
client sends, valid or not, the answer is never a 5xx. Runs on SQLite and on PostgreSQL (which
is stricter about text: NUL characters, lone surrogates)."""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from agentlog.collector import KeyRing, create_app
from agentlog.store import open_store

from .conftest import KEYS, PG_URL, A, event, require_postgres, session

_STORES: dict[str, Any] = {}
EXAMPLES = 8  # per operation and backend: bounded to keep the suite fast


def _app(backend: str) -> Any:
    """One store per backend for the module, with a known session to aim requests at."""
    if backend not in _STORES:
        if backend == "sqlite":
            store = open_store(os.path.join(tempfile.mkdtemp(), "fuzz.db"), processing=False)
        else:
            require_postgres()
            from agentlog.store.postgres import PostgresStore

            store = PostgresStore(PG_URL, schema=f"agentlog_fuzz_{uuid.uuid4().hex[:10]}",
                                  processing=False)  # fmt: skip
        store.ingest([session("known"), event("known", "known-event")], project="a")
        store.store_message("known", {"role": "user", "content": "hi"}, project="a")
        _STORES[backend] = (store, create_app(store, keys=KeyRing(env=KEYS)))
    return _STORES[backend][1]


@pytest.fixture(scope="module", autouse=True)
def _close_stores() -> Any:
    yield
    for store, _ in _STORES.values():
        drop = getattr(store, "drop_schema", None)
        drop() if drop is not None else store.close()
    _STORES.clear()


schema = schemathesis.openapi.from_asgi("/openapi.json", _app("sqlite"))
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


def _aim(case: Any) -> None:
    # Half the cases go to a session and event that exist, so bodies and queries are
    # exercised past the 404 of an unknown id.
    params = case.path_parameters or {}
    for name, known in (("session_id", "known"), ("event_id", "known-event")):
        value = params.get(name)
        if isinstance(value, str) and len(value) % 2 == 0:
            params[name] = known


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_no_request_gets_a_5xx(case: Any, backend: str) -> None:
    _aim(case)
    r = case.call(headers=A, app=_app(backend))
    case.validate_response(r, checks=[response_schema_conformance, content_type_conformance])
    assert r.status_code < 500, (case.method, case.formatted_path, case.query, case.body,
                                 r.status_code, r.text)  # fmt: skip
