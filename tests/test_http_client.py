"""``agentlog.Client`` over HTTP: the same methods and the same models as in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentlog import Client, ConflictError, InvalidInputError, NotFoundError
from agentlog._http_transport import CollectorError
from agentlog.client import LocalTransport
from agentlog.collector import KeyRing, create_app
from agentlog.store import Event, MessagesPage, Page, Session, Store, open_store

from .collector.conftest import KEY_A, KEY_B, KEYS, PG_URL, require_postgres
from .collector.servers import ThreadServer, free_port


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    """One store, served by a real collector; yields the store and the collector's URL."""
    store = open_store(tmp_path / "c.db", processing=False)
    with ThreadServer(create_app(store, keys=KeyRing(env=KEYS))) as server:
        yield store, server.url
    store.close()


@pytest.fixture(params=["local", "http"])
def pair(
    request: pytest.FixtureRequest, shared: tuple[Store, str]
) -> Iterator[tuple[Client, Client]]:
    """Clients of projects a and b, in-process or over HTTP, on the same store."""
    store, url = shared
    if request.param == "local":
        yield (Client(transport=LocalTransport(store, project="a")),
               Client(transport=LocalTransport(store, project="b")))  # fmt: skip
        return
    a, b = Client(base_url=url, api_key=KEY_A), Client(base_url=url, api_key=KEY_B)
    yield a, b
    a.close()
    b.close()


def _fill(c: Client) -> tuple[str, str]:
    s = c.sessions.create(id="s1", name="support", user="alice",
                          configs={"agent": {"name": "bot1"}, "tags": ["x", "y"]})  # fmt: skip
    c.sessions.add_event(s.id, type="tool_call", name="search", data={"input": "q"},
                         ts="2026-01-01T00:00:00.000001Z")  # fmt: skip
    c.sessions.store_message(s.id, {"role": "user", "content": "hi"}, ts="2026-01-01T00:00:01Z")
    marker = c.sessions.add_event(s.id, type="compaction", ts="2026-01-01T00:00:02Z")
    c.sessions.store_message(s.id, {"role": "assistant", "content": "yo"},
                             ts="2026-01-01T00:00:03Z")  # fmt: skip
    c.sessions.store_message(s.id, {"role": "user", "content": "again"}, ts="2026-01-01T00:00:04Z")
    return s.id, marker.id


def test_every_read_gives_the_same_models_over_http(shared: tuple[Store, str]) -> None:
    store, url = shared
    remote = Client(base_url=url, api_key=KEY_A)
    local = Client(transport=LocalTransport(store, project="a"))
    sid, marker = _fill(remote)
    # A local read processes the session's pending data first (a collector's reads do not):
    # process it now so that both sides read the same state.
    remote.sessions.flush(sid)
    reads: list[tuple[str, Any]] = [
        ("get", lambda c: c.sessions.get(sid)),
        ("list", lambda c: c.sessions.list(user="alice",
                                           filter_by_configs={"agent": {"name": "bot1"}})),
        ("list-none", lambda c: c.sessions.list(filter_by_configs={"tags": ["z"]})),
        ("events", lambda c: c.sessions.get_events(sid, type=["tool_call", "compaction"])),
        ("events-str", lambda c: c.sessions.get_events(sid, type="compaction", time_desc=True)),
        ("messages", lambda c: c.sessions.get_messages(sid, with_events=True, limit=2)),
        ("configs", lambda c: c.sessions.get_configs(sid)),
        ("status", lambda c: c.sessions.messages_observing_status(sid)),
        ("context", lambda c: c.query.event_context(marker, before=2, after=2)),
        ("counts", lambda c: c.query.event_counts(days=36500, bucket="day", type="user")),
        ("markers", lambda c: c.query.events_between_markers(marker_types=["compaction"],
                                                              count_type="user", days=36500)),
        ("iterate", lambda c: c.query.iterate_events(session_id=sid, types=["user"], limit=1)),
    ]  # fmt: skip
    for name, read in reads:
        got, want = read(remote), read(local)
        assert got == want, name
        assert type(got) is type(want), name
    assert isinstance(remote.sessions.get(sid), Session)
    page = remote.sessions.get_messages(sid, with_events=True, limit=2)
    assert isinstance(page, MessagesPage) and all(isinstance(e, Event) for e in page.events)
    remote.close()


def test_writes_return_what_they_wrote(pair: tuple[Client, Client]) -> None:
    c, _ = pair
    sid, _ = _fill(c)
    assert c.sessions.patch_configs(sid, {"tags": None, "env": "prod"}) == {
        "agent": {"name": "bot1"}, "env": "prod"}  # fmt: skip
    assert c.sessions.update_configs(sid, {"only": 1}) == {"only": 1}
    assert c.sessions.update_configs(sid, None) is None
    assert c.sessions.get_configs(sid).configs is None
    assert c.sessions.flush(sid).observed == 3
    copy = c.sessions.copy(sid)
    assert copy.id != sid and len(c.sessions.get_events(copy.id).items) == 2
    closed = c.sessions.close(copy.id, status="error", summary="broke")
    assert (closed.status, closed.summary) == ("error", "broke")
    assert closed.ended_at is not None
    c.sessions.delete(copy.id)
    with pytest.raises(NotFoundError):
        c.sessions.get(copy.id)


def test_pages_walk_every_session_once(pair: tuple[Client, Client]) -> None:
    c, _ = pair
    made = {c.sessions.create(id=f"s{i}").id for i in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        page = c.sessions.list(limit=2, cursor=cursor, time_desc=False)
        assert isinstance(page, Page)
        seen += [s.id for s in page.items]
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(made)


def test_errors_are_the_same_exceptions(pair: tuple[Client, Client]) -> None:
    a, b = pair
    b.sessions.create(id="theirs")
    with pytest.raises(NotFoundError, match="theirs"):
        a.sessions.get("theirs")
    with pytest.raises(ConflictError, match="another project"):
        a.sessions.create(id="theirs")
    with pytest.raises(InvalidInputError, match="limit"):
        a.sessions.list(limit=0)
    with pytest.raises(InvalidInputError, match="bucket"):
        a.query.event_counts(bucket="fortnight")
    with pytest.raises(InvalidInputError, match="status"):
        a.sessions.list(status="sleeping")


def test_a_wrong_key_is_a_collector_error_with_401(shared: tuple[Store, str]) -> None:
    _, url = shared
    with Client(base_url=url, api_key="not-a-key-at-all") as c:
        with pytest.raises(CollectorError) as info:
            c.sessions.list()
    assert info.value.status == 401 and "API key" in str(info.value)


def test_an_unreachable_collector_is_a_collector_error() -> None:
    with Client(base_url=f"http://127.0.0.1:{free_port()}", api_key=KEY_A, timeout=2.0) as c:
        with pytest.raises(CollectorError, match="unreachable"):
            c.sessions.list()


def test_a_remote_client_takes_no_local_options() -> None:
    with pytest.raises(ValueError, match="base_url"):
        Client(base_url="http://127.0.0.1:1", db="x.db")
    with pytest.raises(ValueError, match="api_key"):
        Client(api_key="k")
    with pytest.raises(ValueError, match="http"):
        Client(base_url="ftp://x")


def test_http_client_against_a_postgresql_collector() -> None:
    require_postgres()
    import uuid

    from agentlog.store.postgres import PostgresStore

    store = PostgresStore(PG_URL, schema=f"agentlog_http_{uuid.uuid4().hex[:10]}",
                          processing=False)  # fmt: skip
    try:
        with ThreadServer(create_app(store, keys=KeyRing(env=KEYS))) as server:
            with Client(base_url=server.url, api_key=KEY_A) as c:
                sid, _ = _fill(c)
                assert [s.id for s in c.sessions.list(
                    filter_by_configs={"tags": ["y"]}).items] == [sid]  # fmt: skip
                stats = c.query.events_between_markers(count_type="user", days=36500)
                assert (stats.marker_count, stats.counted_events, stats.trailing_events) == (
                    1,
                    1,
                    1,
                )
    finally:
        store.drop_schema()  # type: ignore[attr-defined]


def test_the_api_key_defaults_to_the_environment(
    shared: tuple[Store, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = shared
    monkeypatch.setenv("AGENTLOG_API_KEY", KEY_B)
    with Client(base_url=url) as c:
        c.sessions.create(id="from-env")
    with Client(base_url=url, api_key=KEY_B) as b:
        assert b.sessions.get("from-env").id == "from-env"
