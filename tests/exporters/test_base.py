from __future__ import annotations

from agentlog.exporters import RecordBatch


def test_a_batch_built_from_lines_joins_them_as_jsonl() -> None:
    batch = RecordBatch([b'{"a":1}', b'{"b":2}'], ["s", None])
    assert batch.jsonl() == b'{"a":1}\n{"b":2}\n' and len(batch) == 2


def test_a_batch_built_from_jsonl_splits_its_lines_only_when_asked() -> None:
    batch = RecordBatch.from_jsonl(b'{"a":1}\n{"b":2}\n', ["s", None])
    assert len(batch) == 2 and batch.jsonl() == b'{"a":1}\n{"b":2}\n'
    assert batch.lines == [b'{"a":1}', b'{"b":2}'] and batch.records == [{"a": 1}, {"b": 2}]
    assert batch.subset([1]).lines == [b'{"b":2}']


def test_an_empty_batch_has_no_lines_and_no_bytes() -> None:
    for batch in (RecordBatch([], []), RecordBatch.from_jsonl(b"", [])):
        assert len(batch) == 0 and batch.lines == [] and batch.jsonl() == b""
