"""The Client's call shapes from the seed, id prefixes and counts by outcome: the same in
process and over HTTP (the ``pair`` fixture runs each test both ways)."""

from __future__ import annotations

import pytest

from agentlog import Client, DiskEvent, Event, InvalidInputError, NotFoundError, TextEvent
from agentlog._http_transport import CollectorError
from agentlog.client import SessionConfigs
from agentlog.store import Store

from .test_http_client import pair, shared  # noqa: F401  (fixtures)

S1 = "0190aaaa-bbbb-7000-8000-000000000001"
S2 = "0190aaaa-bbbb-7000-8000-000000000002"
S3 = "0190aaaa-cccc-7000-8000-000000000003"


def test_the_seed_call_shapes(pair: tuple[Client, Client]) -> None:  # noqa: F811
    client, _ = pair
    session = client.sessions.create(configs={"model": "gpt-4o", "temp": 0.2})
    disk = client.sessions.add_event(session.id, DiskEvent(disk_id="d1", path="/data/r.csv",
                                                           note="Uploaded report"))  # fmt: skip
    text = client.sessions.add_event(session.id, TextEvent(text="User switched to dark mode"))
    custom = client.sessions.add_event(session.id, Event(type="compaction",
                                                         data={"tokens_before": 180000}))  # fmt: skip
    kwargs = client.sessions.add_event(session.id, type="step", name="plan", data={"n": 1})
    assert (disk.type, disk.data) == ("disk", {"disk_id": "d1", "path": "/data/r.csv",
                                               "note": "Uploaded report"})  # fmt: skip
    assert (text.type, text.data) == ("text", {"text": "User switched to dark mode"})
    assert (custom.type, custom.data) == ("compaction", {"tokens_before": 180000})
    assert (kwargs.type, kwargs.name) == ("step", "plan")
    stored = client.sessions.get_events(session.id).items
    assert [e.type for e in stored] == ["disk", "text", "compaction", "step"]

    assert client.sessions.patch_configs(session_id=session.id, configs={"temp": None}) == {
        "model": "gpt-4o"}  # fmt: skip
    assert client.sessions.update_configs(session_id=session.id, configs={"agent": "bot1"}) == {
        "agent": "bot1"}  # fmt: skip
    got = client.sessions.get_configs(session_id=session.id)
    assert isinstance(got, SessionConfigs) and got.configs == {"agent": "bot1"}


def test_the_seed_shapes_refuse_mixed_or_missing_arguments(
    pair: tuple[Client, Client],  # noqa: F811
) -> None:
    client, _ = pair
    sid = client.sessions.create().id
    with pytest.raises(InvalidInputError, match="not both"):
        client.sessions.add_event(sid, TextEvent(text="x"), type="text")
    with pytest.raises(InvalidInputError, match="type is required"):
        client.sessions.add_event(sid)
    with pytest.raises(InvalidInputError, match="TextEvent"):
        client.sessions.add_event(sid, {"type": "text"})
    with pytest.raises(InvalidInputError, match="once"):
        client.sessions.patch_configs(sid, {"a": 1}, configs={"a": 1})


def test_id_prefixes_work_wherever_an_id_is_taken(pair: tuple[Client, Client]) -> None:  # noqa: F811
    a, b = pair
    for sid in (S1, S2, S3):
        a.sessions.create(id=sid, name=sid[-1])
    ev = a.sessions.add_event(S3, type="step", name="only")
    msg = a.sessions.store_message(S3, {"role": "user", "content": "hi"})
    assert a.sessions.get("0190aaaa-cccc").id == S3
    assert [e.id for e in a.sessions.get_events("0190aaaa-ccc").items] == [ev.id]
    assert a.sessions.get_messages(S3[:20]).items[0].id == msg.id
    assert [i.id for i in a.query.iterate_events(session_id=S3[:12]).events] == [ev.id, msg.id]
    # Ids made in one millisecond differ only near their end: the shortest prefix of the
    # event's id that the message's id does not share (never shorter than 8).
    differ = next(
        (i for i, (x, y) in enumerate(zip(ev.id, msg.id, strict=True)) if x != y), len(ev.id)
    )
    prefix = ev.id[: max(8, differ + 1)]
    assert a.query.event_context(prefix, before=0, after=1).target.id == ev.id
    assert a.sessions.patch_configs(S3[:10], {"k": 1}) == {"k": 1}
    with pytest.raises(InvalidInputError, match="ambiguous") as err:
        a.sessions.get("0190aaaa-bbbb")
    assert S1 in str(err.value) and S2 in str(err.value)
    with pytest.raises(NotFoundError):
        a.sessions.get("0190aaa")  # shorter than 8 characters: taken as a whole id
    with pytest.raises(NotFoundError):
        b.sessions.get("0190aaaa-cccc")  # another project's sessions are never matched


def test_counts_by_outcome(pair: tuple[Client, Client]) -> None:  # noqa: F811
    c, _ = pair
    sid = c.sessions.create().id
    for ev in ({"type": "tool_call", "name": "search", "data": {"input": 1}},
               {"type": "error", "data": {"message": "boom"}}):  # fmt: skip
        c.sessions.add_event(sid, **ev)  # type: ignore[arg-type]
    c.sessions.store_message(sid, {"role": "user", "content": "hi"})
    everything = c.query.event_counts(days=1, bucket="session")
    errors = c.query.event_counts(days=1, bucket="session", status="error")
    fine = c.query.event_counts(days=1, bucket="session", status="ok", type="tool_call")
    assert [(r.bucket, r.count) for r in everything] == [(sid, 3)]
    assert [(r.bucket, r.count) for r in errors] == [(sid, 1)]
    assert [(r.bucket, r.count) for r in fine] == [(sid, 1)]
    with pytest.raises(InvalidInputError, match="status"):
        c.query.event_counts(status="broken")


def test_a_missing_key_says_how_to_pass_one(shared: tuple[Store, str]) -> None:  # noqa: F811
    _, url = shared
    with Client(base_url=url, api_key="not-a-key-at-all") as c:
        with pytest.raises(CollectorError) as info:
            c.sessions.list()
    message = str(info.value)
    assert info.value.status == 401
    assert all(way in message for way in ("--api-key", "AGENTLOG_API_KEY", "api_key=",
                                          "agentlog keys create"))  # fmt: skip
