"""A wrong key never sends, deletes or steals another destination's spooled batches.

Runs against a real collector process: a run with a good key exits while the collector is down
(its records stay in its spool); a run with a mistyped key meets a 401; a later run with the good
key delivers the first run's backlog; once the collector accepts the second key, a run with it
delivers what the 401 kept. Each record arrives exactly once, and no key is ever written to disk.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from agentlog.exporters._spool import destination_dir
from tests.collector.servers import free_port

from ._remote import KEY, OTHER_KEY, agent_env, db_counts, spool_files, start_collector

AGENT = textwrap.dedent(
    """
    import json, logging, sys
    import agentlog
    from agentlog._state import STATE

    url, key, spool, tag, n = sys.argv[1:6]
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s %(message)s")
    agentlog.init(exporter="http", endpoint=url, api_key=key, spool_dir=spool, max_batch=4,
                  export_timeout=2.0, shutdown_timeout=2.0)
    for s in range(int(n)):
        with agentlog.session(f"{tag}-{s}"):
            for i in range(3):
                agentlog.track_tool_call("t", input={"tag": tag, "i": i}, output=i)
    pipeline = STATE.pipeline
    agentlog.shutdown()
    pipeline._thread.join(10.0)
    st = pipeline.status()
    print(json.dumps({"observed": st.observed, "spooled": st.spooled, "failed": st.failed,
                      "dropped": st.dropped}))
    """
)


def _run(url: str, key: str, spool: Path, tag: str, n: int) -> tuple[dict[str, Any], str]:
    out = subprocess.run(
        [sys.executable, "-c", AGENT, url, key, str(spool), tag, str(n)],
        capture_output=True, text=True, timeout=60, env=agent_env(),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


def _contents(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in spool_files(d)}


def test_a_wrong_key_keeps_every_batch_for_its_own_destination(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    spool = tmp_path / "spool"
    good_dir = destination_dir(spool, "http", url + "/v1/ingest", KEY)
    bad_dir = destination_dir(spool, "http", url + "/v1/ingest", OTHER_KEY)

    # 1. The collector is down: a run with the good key leaves 4 sessions (20 records) spooled.
    st, _ = _run(url, KEY, spool, "a", 4)
    assert st == {"observed": 0, "spooled": 20, "failed": 0, "dropped": 0}
    kept = _contents(good_dir)
    assert sum(len(v.splitlines()) for v in kept.values()) == 20

    # 2. The collector is up; a run with a key it does not know neither sends nor deletes
    # anything: its own records are kept too, and it says so once, loudly, with the remedy.
    collector = start_collector(tmp_path, port=port)
    st, err = _run(url, OTHER_KEY, spool, "b", 2)
    assert st == {"observed": 0, "spooled": 10, "failed": 0, "dropped": 0}
    assert _contents(good_dir) == kept
    assert sum(len(p.read_bytes().splitlines()) for p in spool_files(bad_dir)) == 10
    assert db_counts(tmp_path) == (0, 0, 0)
    refused = [line for line in err.splitlines() if "refused the API key" in line]
    assert len(refused) == 1, err[-3000:]
    line = refused[0]
    assert line.startswith("ERROR agentlog") and url in line and str(bad_dir) in line
    assert "api_key=" in line and "AGENTLOG_API_KEY" in line

    # 3. The good key again: the first run's backlog is delivered with this run's records.
    st, _ = _run(url, KEY, spool, "c", 1)
    assert st["spooled"] == st["failed"] == st["dropped"] == 0
    assert db_counts(tmp_path) == (5 * 3, 5, 5)
    assert spool_files(good_dir) == []
    assert len(spool_files(bad_dir)) > 0

    # 4. Once the collector accepts the second key, a run with it delivers what the 401 kept.
    collector.stop()
    collector = start_collector(tmp_path, keys=f"{KEY}:proj,{OTHER_KEY}:proj", port=port)
    try:
        st, _ = _run(url, OTHER_KEY, spool, "d", 1)
        assert st["spooled"] == st["failed"] == st["dropped"] == 0
        assert db_counts(tmp_path) == (8 * 3, 8, 8)
    finally:
        collector.stop()
    assert spool_files(spool) == []
    for p in spool.rglob("*"):  # the keys themselves never touch the disk
        if p.is_file():
            assert KEY.encode() not in p.read_bytes() and OTHER_KEY.encode() not in p.read_bytes()
