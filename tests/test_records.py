from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest

from agentlog._records import json_schemas, parse_record

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "docs" / "schema"


def test_committed_schema_matches_the_models() -> None:
    for name, schema in json_schemas().items():
        committed = json.loads((SCHEMA_DIR / name).read_text())
        assert committed == schema, (
            f"docs/schema/{name} is stale: python -m agentlog._records docs/schema"
        )


def test_records_written_by_the_sdk_validate(recorded: object) -> None:
    import agentlog

    with agentlog.session("s", configs={"a": 1}):
        agentlog.track_llm_call(model="m", usage={"prompt_tokens": 1, "completion_tokens": 2})
        agentlog.store_message({"role": "user", "content": "hi"})
    assert agentlog.flush()
    for rec in recorded.records:  # type: ignore[attr-defined]
        parse_record(rec)


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"kind": "event", "id": "e", "type": "", "ts": "2026-01-01T00:00:00Z"}, "type"),
        ({"kind": "event", "id": "e", "type": "x", "ts": "yesterday"}, "ts"),
        (
            {"kind": "event", "id": "e", "type": "x", "ts": "2026-01-01T00:00:00Z", "data": []},
            "data",
        ),
        ({"kind": "session", "id": "s", "status": "done"}, "status"),
        (
            {
                "kind": "message",
                "id": "m",
                "session_id": "s",
                "ts": "2026-01-01T00:00:00Z",
                "role": "user",
                "blob": 1,
                "format": "xml",
            },
            "format",
        ),
        (
            {"kind": "event", "id": "e", "type": "x", "ts": "2026-01-01T00:00:00Z", "surprise": 1},
            "surprise",
        ),
        ({"kind": "gossip", "id": "g"}, "kind"),
    ],
)
def test_invalid_records_name_the_field(record: dict[str, object], field: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=field):
        parse_record(record)


def test_a_timestamp_out_of_range_in_utc_is_a_field_error() -> None:
    record = {"kind": "event", "id": "e", "type": "x", "ts": "0001-01-01T00:00:00+01:00"}
    with pytest.raises(pydantic.ValidationError, match="ts"):
        parse_record(record)
