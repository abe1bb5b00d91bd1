"""End to end: ``agentlog serve`` as a real process, agents as real processes recording through
the ``http`` exporter, the data read back through ``agentlog.Client`` over HTTP.

Faults are real too: the collector not yet started, killed with SIGKILL mid-stream and started
again on the same port, and an agent exiting while it is down (the next agent re-sends its
spool). In every case each record is stored exactly once: every id present, none twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentlog import Client

from .collector.conftest import KEY_A, KEY_B, KEYS, PG_URL, require_postgres
from .collector.servers import Collector, free_port, wait_for

AGENT = textwrap.dedent('''
    """A test agent: records ``rounds`` of sessions through the http exporter. Before round i
    (i > 0) it waits for the file ``go-i``; after each round it writes ``done-i``."""
    import os, sys, time
    from pathlib import Path
    import agentlog
    from agentlog.exporters.http import HttpExporter

    url, key, tag, rounds, per, work = sys.argv[1:7]
    rounds, per, work = int(rounds), int(per), Path(work)

    def wait_file(name):
        deadline = time.monotonic() + 60
        while not (work / name).exists():
            if time.monotonic() > deadline:
                sys.exit(f"no {name}")
            time.sleep(0.02)  # polling a file another process writes: no event to wait on

    exporter = HttpExporter(url, api_key=key, spool_dir=str(work / "spool"), timeout=2.0,
                            retry_deadline=0.5, backoff_base=0.05, backoff_max=0.3)
    agentlog.init(exporter=exporter, max_batch=50, idle_flush=0.05, shutdown_timeout=5.0)

    @agentlog.tool
    def search(q):
        return [q.upper()]

    for r in range(rounds):
        if r:
            wait_file(f"go-{r}")
        with agentlog.session(f"{tag}-{r}", user=tag, configs={"tag": tag, "round": r}):
            for i in range(per):
                search(f"{tag}-{r}-{i}")
            agentlog.store_message({"role": "user", "content": f"round {r}"})
        agentlog.flush(2.0)
        (work / f"done-{r}").write_text("")
    if os.environ.get("AGENT_DRAIN"):
        deadline = time.monotonic() + 30
        while agentlog.status().spooled and time.monotonic() < deadline:
            agentlog.flush(1.0)
    print("status", agentlog.status())
''')


class Agent:
    def __init__(self, tmp: Path, url: str, *, key: str = KEY_A, tag: str = "a",
                 rounds: int = 1, per: int = 20, drain: bool = True) -> None:  # fmt: skip
        self.work = tmp
        script = tmp / "agent.py"
        script.write_text(AGENT)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")}
        if drain:
            env["AGENT_DRAIN"] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, str(script), url, key, tag, str(rounds), str(per), str(tmp)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=tmp,
        )  # fmt: skip

    def wait_round(self, r: int) -> None:
        wait_for(lambda: (self.work / f"done-{r}").exists() or self.proc.poll() is not None,
                 timeout=60, what=f"agent round {r}")  # fmt: skip
        assert (self.work / f"done-{r}").exists(), self.output()

    def go(self, r: int) -> None:
        (self.work / f"go-{r}").write_text("")

    def finish(self) -> str:
        out = self.output()
        assert self.proc.returncode == 0, out
        return out

    def output(self) -> str:
        try:
            out, _ = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out.decode(errors="replace")


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'collector.db'}"


@pytest.fixture
def collector(tmp_path: Path, sqlite_db: str) -> Iterator[Collector]:
    c = Collector(sqlite_db, keys=KEYS, log=tmp_path / "collector.log")
    yield c
    c.stop()


def _tool_calls(client: Client, tag: str) -> list[str]:
    """Every recorded search input of the agent ``tag``, across all its sessions."""
    out: list[str] = []
    cursor = None
    while True:
        page = client.query.iterate_events(types=["tool_call"], cursor=cursor, limit=1000)
        out += [e.data["input"]["q"] for e in page.events
                if e.data["input"]["q"].startswith(f"{tag}-")]  # fmt: skip
        cursor = page.next_cursor
        if cursor is None:
            return out


def _expect(tag: str, rounds: int, per: int) -> list[str]:
    return sorted(f"{tag}-{r}-{i}" for r in range(rounds) for i in range(per))


def _agent_dir(tmp_path: Path, name: str) -> Path:
    d = tmp_path / name
    d.mkdir(exist_ok=True)
    return d


def test_an_agent_records_and_the_client_reads_it_back(
    tmp_path: Path, collector: Collector
) -> None:
    collector.start()
    Agent(_agent_dir(tmp_path, "agent"), collector.url, rounds=1, per=30).finish()
    with Client(base_url=collector.url, api_key=KEY_A) as client:
        sessions = client.sessions.list(user="a").items
        assert [(s.name, s.status) for s in sessions] == [("a-0", "success")]
        sid = sessions[0].id
        assert client.sessions.get_configs(sid).configs == {"tag": "a", "round": 0}
        page = client.sessions.get_messages(sid, with_events=True, max_events=100)
        assert [m.role for m in page.items] == ["user"] and len(page.events) == 30
        assert sorted(_tool_calls(client, "a")) == _expect("a", 1, 30)
        assert client.sessions.flush(sid).observed == 1
    with Client(base_url=collector.url, api_key=KEY_B) as other:
        assert other.sessions.list().items == []


def test_collector_down_at_start_then_up(tmp_path: Path, collector: Collector) -> None:
    agent = Agent(_agent_dir(tmp_path, "agent"), collector.url, rounds=2, per=25)
    agent.wait_round(0)  # recorded while nothing listens: spooled
    collector.start()
    agent.go(1)
    agent.finish()
    with Client(base_url=collector.url, api_key=KEY_A) as client:
        assert sorted(_tool_calls(client, "a")) == _expect("a", 2, 25)


def test_collector_killed_and_restarted_mid_stream(tmp_path: Path, collector: Collector) -> None:
    collector.start()
    agent = Agent(_agent_dir(tmp_path, "agent"), collector.url, rounds=3, per=25)
    agent.wait_round(0)
    collector.kill()
    agent.go(1)
    agent.wait_round(1)  # recorded while the collector is dead
    collector.start()
    agent.go(2)
    agent.finish()
    with Client(base_url=collector.url, api_key=KEY_A) as client:
        assert sorted(_tool_calls(client, "a")) == _expect("a", 3, 25)
        assert {s.status for s in client.sessions.list(user="a").items} == {"success"}


def test_an_agent_exiting_while_down_is_resent_by_the_next(
    tmp_path: Path, collector: Collector
) -> None:
    work = _agent_dir(tmp_path, "agent")
    first = Agent(work, collector.url, tag="first", rounds=1, per=40, drain=False)
    out = first.finish()
    assert "observed=0" in out and "spooled=0" not in out, out  # it left its records spooled
    collector.start()
    (work / "done-0").unlink()
    Agent(work, collector.url, tag="second", rounds=1, per=10).finish()
    with Client(base_url=collector.url, api_key=KEY_A) as client:
        assert sorted(_tool_calls(client, "first")) == _expect("first", 1, 40)
        assert sorted(_tool_calls(client, "second")) == _expect("second", 1, 10)


def test_agents_of_two_projects_stay_apart(tmp_path: Path, collector: Collector) -> None:
    collector.start()
    a = Agent(_agent_dir(tmp_path, "a"), collector.url, key=KEY_A, tag="a", per=5)
    b = Agent(_agent_dir(tmp_path, "b"), collector.url, key=KEY_B, tag="b", per=7)
    a.finish()
    b.finish()
    with Client(base_url=collector.url, api_key=KEY_B) as client:
        assert sorted(_tool_calls(client, "b")) == _expect("b", 1, 7)
        assert _tool_calls(client, "a") == []


def test_serve_refuses_to_start_without_keys(tmp_path: Path, sqlite_db: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")}
    r = subprocess.run([sys.executable, "-m", "agentlog.cli", "serve", "--db", sqlite_db,
                        "--port", str(free_port())], env=env, capture_output=True,
                       text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2 and "no API keys" in r.stderr


def test_no_auth_mode_says_so_loudly(tmp_path: Path, sqlite_db: str) -> None:
    c = Collector(sqlite_db, keys="", log=tmp_path / "noauth.log", extra=("--no-auth",))
    c.start()
    try:
        with Client(base_url=c.url) as client:
            assert client.sessions.create(id="s1").id == "s1"
    finally:
        c.stop()
    assert "AUTHENTICATION IS OFF" in (tmp_path / "noauth.log").read_text()


def test_a_postgresql_collector_end_to_end(tmp_path: Path) -> None:
    require_postgres()
    schema = f"agentlog_e2e_{uuid.uuid4().hex[:10]}"
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    c = Collector(url, keys=KEYS, log=tmp_path / "pg.log")
    try:
        c.start()
        agent = Agent(_agent_dir(tmp_path, "agent"), c.url, rounds=2, per=20)
        agent.wait_round(0)
        c.kill()
        c.start()
        agent.go(1)
        agent.finish()
        with Client(base_url=c.url, api_key=KEY_A) as client:
            assert sorted(_tool_calls(client, "a")) == _expect("a", 2, 20)
    finally:
        c.stop()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
