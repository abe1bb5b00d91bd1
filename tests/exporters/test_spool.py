from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

from agentlog.exporters._spool import Spool, record_session_id


def _lines(n: int, sid: str = "s1", tag: str = "r") -> list[bytes]:
    return [
        orjson.dumps({"v": 1, "kind": "event", "id": f"{tag}{i}", "session_id": sid})
        for i in range(n)
    ]


def _spool(path: Path, max_bytes: int = 1 << 20) -> Spool:
    s = Spool(path, max_bytes=max_bytes)
    s.open()
    return s


def test_write_then_claim_reads_the_same_lines(tmp_path: Path) -> None:
    s = _spool(tmp_path / "spool")
    s.write(_lines(3))
    [path] = s.files()
    f = s.claim(path)
    assert f is not None
    assert f.lines == _lines(3)
    assert f.owner == s.owner
    assert f.session_ids == ["s1", "s1", "s1"]


def test_files_sort_in_write_order(tmp_path: Path) -> None:
    s = _spool(tmp_path / "spool")
    for i in range(5):
        s.write(_lines(1, tag=f"b{i}-"))
    firsts = [orjson.loads(p.read_bytes().split(b"\n")[0])["id"] for p in s.files()]
    assert firsts == [f"b{i}-0" for i in range(5)]


def test_a_claimed_file_cannot_be_claimed_again(tmp_path: Path) -> None:
    s = _spool(tmp_path / "spool")
    s.write(_lines(1))
    [path] = s.files()
    first = s.claim(path)
    assert first is not None
    assert s.claim(path) is None
    first.release()
    again = s.claim(path)
    assert again is not None


def test_a_completed_file_is_gone_for_a_waiting_claimant(tmp_path: Path) -> None:
    s = _spool(tmp_path / "spool")
    s.write(_lines(1))
    [path] = s.files()
    first = s.claim(path)
    assert first is not None
    first.complete()
    assert s.claim(path) is None
    assert s.files() == []


def test_write_with_claim_is_held_from_the_start(tmp_path: Path) -> None:
    s = _spool(tmp_path / "spool")
    held = s.write(_lines(2), claim=True)
    assert held is not None
    assert s.claim(held.path) is None
    held.complete()
    assert s.files() == []


def test_no_temporary_file_is_listed_or_left(tmp_path: Path) -> None:
    s = _spool(tmp_path / "spool")
    s.write(_lines(2))
    names = sorted(os.listdir(tmp_path / "spool"))
    assert [n for n in names if n.startswith(".")] == []
    assert len(s.files()) == 1


def test_stale_temporary_files_are_cleaned_at_open(tmp_path: Path) -> None:
    d = tmp_path / "spool"
    d.mkdir()
    stale = d / ".0001-x-00000000.jsonl"
    stale.write_bytes(b'{"half":')
    old = time.time() - 7200
    os.utime(stale, (old, old))
    s = _spool(d)
    assert not stale.exists()
    assert s.files() == []


def test_make_room_drops_the_oldest_first(tmp_path: Path) -> None:
    one = len(b"\n".join(_lines(10, tag="b0-")) + b"\n")
    s = _spool(tmp_path / "spool", max_bytes=3 * one)
    for i in range(3):
        s.write(_lines(10, tag=f"b{i}-"))
    dropped = s.make_room(one)
    assert [orjson.loads(f.lines[0])["id"] for f in dropped] == ["b0-0"]
    assert len(s.files()) == 2
    assert s.total_bytes() + one <= s.max_bytes


def test_make_room_skips_files_being_sent(tmp_path: Path) -> None:
    one = len(b"\n".join(_lines(10, tag="b0-")) + b"\n")
    s = _spool(tmp_path / "spool", max_bytes=2 * one)
    busy = s.write(_lines(10, tag="busy-"), claim=True)
    s.write(_lines(10, tag="next-"))
    dropped = s.make_room(one)
    assert [orjson.loads(f.lines[0])["id"] for f in dropped] == ["next-0"]
    assert busy is not None and busy.path.exists()


def test_own_files_are_sendable_and_a_live_owners_are_not(tmp_path: Path) -> None:
    d = tmp_path / "spool"
    mine, other = _spool(d), _spool(d)
    mine.write(_lines(1, tag="mine"))
    other.write(_lines(1, tag="other"))
    assert [p.name.split("-")[1] for p in mine.sendable()] == [mine.owner]
    other.close()  # the other process ended: its backlog is anyone's now
    assert {p.name.split("-")[1] for p in mine.sendable()} == {mine.owner, other.owner}


def test_a_crashed_owner_is_seen_as_gone(tmp_path: Path) -> None:
    d = tmp_path / "spool"
    code = textwrap.dedent(
        f"""
        import os
        from agentlog.exporters._spool import Spool
        s = Spool({str(d)!r}, max_bytes=1 << 20)
        s.open()
        s.write([b'{{"kind":"event","id":"x","session_id":"s"}}'])
        print(s.owner)
        os._exit(1)  # no close(): the owner file stays, its lock dies with the process
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    owner = out.stdout.strip()
    assert (d / f"{owner}.owner").exists()
    me = _spool(d)
    assert not me.owner_alive(owner)
    assert [p.name.split("-")[1] for p in me.sendable()] == [owner]


def test_dead_owners_lock_files_are_cleaned_at_open(tmp_path: Path) -> None:
    d = tmp_path / "spool"
    d.mkdir()
    (d / "123.deadbeef0000.owner").write_bytes(b"")  # left by a process killed with SIGKILL
    first = _spool(d)
    second = _spool(d)  # a live owner's file survives another process's clean-up
    owners = sorted(p.name for p in d.iterdir() if p.suffix == ".owner")
    assert owners == sorted([f"{first.owner}.owner", f"{second.owner}.owner"])


def test_two_processes_never_claim_the_same_file(tmp_path: Path) -> None:
    d = tmp_path / "spool"
    writer = Spool(d, max_bytes=1 << 24)
    writer.open()
    for i in range(60):
        writer.write(_lines(2, tag=f"f{i}-"))
    writer.close()
    code = textwrap.dedent(
        f"""
        import sys
        from agentlog.exporters._spool import Spool
        s = Spool({str(d)!r}, max_bytes=1 << 24)
        s.open()
        sys.stdin.readline()  # start together
        for path in s.sendable():
            f = s.claim(path)
            if f is not None:
                print(path.name, flush=True)
                f.complete()
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate("go\n", timeout=60)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert not set(outs[0]) & set(outs[1])
    assert len(outs[0]) + len(outs[1]) == 60


def test_record_session_id_reads_each_kind() -> None:
    assert record_session_id(b'{"kind":"session","id":"s9"}') == "s9"
    assert record_session_id(b'{"kind":"event","id":"e","session_id":"s1"}') == "s1"
    assert record_session_id(b'{"kind":"message","id":"m","session_id":null}') is None
    assert record_session_id(b"not json") is None


def test_record_session_id_fast_path_agrees_with_decoding() -> None:
    recs = [
        {"v": 1, "kind": "session", "id": "s-1", "name": "x"},
        {"v": 1, "kind": "event", "id": "e", "session_id": "s-2", "data": {"session_id": "no"}},
        {"v": 1, "kind": "message", "id": "m", "session_id": None, "ts": "t"},
        {"v": 1, "kind": "event", "id": "e", "session_id": 'q"uote'},
        {"kind": "event", "session_id": "s-3", "v": 1},
    ]
    assert [record_session_id(orjson.dumps(r)) for r in recs] == [
        "s-1",
        "s-2",
        None,
        'q"uote',
        "s-3",
    ]


def test_destination_dirs_differ_by_endpoint_and_key_and_hold_no_key(tmp_path: Path) -> None:
    from agentlog.exporters._spool import destination_dir

    url = "http://user:pw@127.0.0.1:1/v1/ingest"
    a = destination_dir(tmp_path, "http", url, "key-one")
    assert a == destination_dir(tmp_path, "http", url, "key-one")  # stable across runs
    others = {
        destination_dir(tmp_path, "http", url, "key-two"),
        destination_dir(tmp_path, "http", url, None),
        destination_dir(tmp_path, "http", "http://127.0.0.1:2/v1/ingest", "key-one"),
        destination_dir(tmp_path, "otlp", url, "key-one"),
    }
    assert a not in others and len(others) == 4
    assert a.parent == tmp_path and a.name.startswith("http-") and "key" not in a.name
    s = Spool(a, max_bytes=1 << 20)
    s.open(label=url)
    assert (a / "endpoint").read_text() == "http://127.0.0.1:1/v1/ingest\n"  # no credentials
    s.close()


def test_a_fresh_temporary_file_of_a_dead_writer_is_cleaned_at_open(tmp_path: Path) -> None:
    d = tmp_path / "spool"
    d.mkdir()
    torn = d / f".{time.time_ns():020d}-4242.deadbeef0000-00000000.jsonl"
    torn.write_bytes(b'{"half":')  # written a moment ago, by an owner with no live lock
    s = _spool(d)
    assert not torn.exists()
    s.close()


def test_a_live_writers_temporary_file_is_left_alone(tmp_path: Path) -> None:
    d = tmp_path / "spool"
    writer = _spool(d)
    mine = d / f".{time.time_ns():020d}-{writer.owner}-00000000.jsonl"
    mine.write_bytes(b'{"half":')  # its write is under way
    other = _spool(d)
    assert mine.exists()
    other.close()
    writer.close()


def test_an_unopenable_spool_is_tried_again_later_not_per_batch(tmp_path: Path) -> None:
    blocker = tmp_path / "spool"
    blocker.write_text("a file where the directory should be")
    s = Spool(blocker / "dest", max_bytes=1 << 20)
    with pytest.raises(OSError):
        s.open()
    with pytest.raises(OSError, match="unusable"):  # refused at once: no mkdir per batch
        s.write(_lines(1))
    blocker.unlink()
    s._reopen_at = 0.0  # the retry interval has passed
    s.write(_lines(1))
    assert len(s.files()) == 1
    s.close()
