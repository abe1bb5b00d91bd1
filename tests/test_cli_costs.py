"""``agentlog costs``, ``agentlog compare``, ``sessions --tag/--score``, cost in the timeline,
``serve --prices``, and the MCP cost and compare tools."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import agentlog
from agentlog.cli import main

from .collector.servers import Collector, free_port
from .test_mcp import call, server

JSONL = "runs/events.jsonl"
WHERE = ["--jsonl", JSONL]


def record(tmp_path: Path) -> list[str]:
    """Three sessions: agent a (two, one failing) and agent b; priced and unpriced calls."""
    agentlog.init(path=str(tmp_path / JSONL))
    ids = []
    try:
        for i, agent in enumerate(["a", "a", "b"]):
            try:
                with agentlog.session("run", configs={"agent": agent}, tags=["beta"] if i else [],
                                      user=f"u{i}") as s:  # fmt: skip
                    agentlog.track_llm_call(provider="openai", model="gpt-4o",
                                            usage={"input_tokens": 1000, "cached_tokens": 400,
                                                   "output_tokens": 100})  # fmt: skip
                    agentlog.track_llm_call(model="mystery-model", usage={"input_tokens": 1})
                    agentlog.score("helpful", 3 + i)
                    if i == 1:
                        raise RuntimeError("fails")
            except RuntimeError:
                pass
            ids.append(s.id)
        assert agentlog.flush(10)
    finally:
        agentlog.shutdown()
    return ids


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*WHERE, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_costs_compare_sessions_and_timeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ids = record(tmp_path)
    code, out, _ = cli(capsys, "costs", "--by", "model")
    assert code == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["gpt-4o"][1:] == ["3", "0", "3000", "300", "0.009"]
    assert rows["TOTAL"][1:] == ["6", "3", "0.009"]
    code, out, _ = cli(capsys, "costs", "--unpriced")
    assert out.split() == ["3", "mystery-model"]
    code, out, _ = cli(capsys, "costs", "--by", "config:agent", "--json")
    report = json.loads(out)
    assert {b["key"]: b["total_usd"] for b in report["buckets"]} == {"a": "0.006", "b": "0.003"}
    code, out, _ = cli(capsys, "costs", "--by", "user", "--config", "agent=a", "--json")
    assert {b["key"] for b in json.loads(out)["buckets"]} == {"u0", "u1"}
    code, out, _ = cli(capsys, "compare", "agent", "--json")
    groups = {g["value"]: g for g in json.loads(out)["groups"]}
    assert groups["a"]["error_rate"] == 0.5 and groups["a"]["scores"]["helpful"]["avg"] == 3.5
    assert groups["a"]["cost_per_session"] == "0.003"
    code, out, _ = cli(capsys, "compare", "agent")
    assert out.splitlines()[1].split()[:4] == ["a", "2", "50%", "0.003"]
    code, out, _ = cli(capsys, "sessions", "--tag", "beta", "--json")
    assert {json.loads(line)["id"] for line in out.splitlines()} == set(ids[1:])
    code, out, _ = cli(capsys, "sessions", "--score", "helpful>=4", "--tag", "beta", "--json")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [ids[2], ids[1]]
    code, out, _ = cli(capsys, "timeline", ids[0], "--no-color")
    assert "cost $0.003 (1 unpriced call)" in out
    assert "cost=$0.003" in out and "cost=unpriced" in out
    assert "scores helpful=3" in out
    code, out, err = cli(capsys, "costs", "--by", "week")
    assert code != 0 and "bucket" in err


def test_serve_with_prices_prices_what_it_ingests(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('["house/model-x"]\ninput_mtok = 10\noutput_mtok = "20"\n')
    srv = Collector(str(tmp_path / "c.db"), keys="prices-key-1:p", log=tmp_path / "serve.log",
                    extra=("--prices", str(prices))).start()  # fmt: skip
    url = srv.url
    try:
        rec = {"kind": "event", "id": "ev-1", "session_id": "sx", "type": "llm_call",
               "ts": "2026-11-30T00:00:00Z", "data": {"provider": "house", "model": "model-x",
               "usage": {"input_tokens": 100, "output_tokens": 100}}}  # fmt: skip
        auth = {"Authorization": "Bearer prices-key-1"}
        r = httpx.post(url + "/v1/ingest", json={"records": [rec]}, headers=auth)
        assert r.status_code == 200, r.text
        events = httpx.get(url + "/v1/sessions/sx/events", headers=auth).json()["items"]
        assert events[0]["data"]["cost"] == {"input_usd": "0.001", "output_usd": "0.002",
                                             "total_usd": "0.003", "source": "override"}  # fmt: skip
    finally:
        srv.stop()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    out = subprocess.run([sys.executable, "-m", "agentlog.cli", "serve", "--no-auth", "--db",
                          str(tmp_path / "d.db"), "--port", str(free_port()), "--prices",
                          str(bad)], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode != 0 and "prices" in out.stderr


async def test_mcp_cost_compare_and_scores(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    ids = record(tmp_path)
    async with server(tmp_path) as session:
        report = await call(session, "cost", bucket="model", days=30)
        assert {b["key"]: b["total_usd"] for b in report["buckets"]}["gpt-4o"] == "0.009"
        assert report["unpriced_models"] == [{"model": "mystery-model", "calls": 3}]
        cmp = await call(session, "compare_configs", config_key="agent", scores=["helpful"])
        assert {g["value"]: g["sessions"] for g in cmp["groups"]} == {"a": 2, "b": 1}
        got = await call(session, "get_scores", session_id=ids[2])
        assert [s["value"] for s in got["scores"]] == [5]
        listed = await call(session, "list_sessions", tags=["beta"], score=["helpful>4"])
        assert [s["id"] for s in listed["items"]] == [ids[2]]


def test_import_brings_scores_tags_and_prices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ids = record(tmp_path)
    code = main(["--db", str(tmp_path / "imported.db"), "import", str(tmp_path / JSONL), "--quiet"])
    assert code == 0
    capsys.readouterr()
    code = main(["--db", str(tmp_path / "imported.db"), "sessions", "--tag", "beta",
                 "--score", "helpful>=5", "--json"])  # fmt: skip
    out, _ = capsys.readouterr()
    got = [json.loads(line) for line in out.splitlines()]
    assert [s["id"] for s in got] == [ids[2]]
    assert got[0]["rollup"]["cost_usd"] == "0.003" and got[0]["scores"] == {"helpful": 5}


def test_ui_takes_prices_and_refuses_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[models.x]\ninput_mtok = 'lots'\n")
    code = main(["ui", "--db", str(tmp_path / "u.db"), "--prices", str(bad), "--port", "0"])
    _, err = capsys.readouterr()
    assert code == 2 and "prices" in err and "'x'" in err
