"""The ``otlp`` exporter's spool, against a real OTLP/HTTP receiver (uvicorn on 127.0.0.1,
protobuf decoded, bearer key checked): batches are kept per destination (endpoint and headers),
``force_flush`` is True only once they are delivered, and ``shutdown`` delivers the backlog an
earlier process left.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.collector.servers import ThreadServer, free_port

from ._remote import KEY, OTHER_KEY, agent_env, spool_files


class Receiver(ThreadServer):
    """OTLP/HTTP traces on ``port``: counts every span that arrives with the right key."""

    def __init__(self, port: int) -> None:
        self.spans: Counter[bytes] = Counter()
        super().__init__(Starlette(routes=[Route("/v1/traces", self._traces, methods=["POST"])]),
                         port=port)  # fmt: skip

    async def _traces(self, request: Request) -> Response:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        if request.headers.get("authorization") != f"Bearer {KEY}":
            return Response(status_code=401)
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        msg = ExportTraceServiceRequest()
        msg.ParseFromString(body)
        for rs in msg.resource_spans:
            for ss in rs.scope_spans:
                self.spans.update(span.span_id for span in ss.spans)
        out = ExportTraceServiceResponse().SerializeToString()
        return Response(out, media_type="application/x-protobuf")


AGENT = textwrap.dedent(
    """
    import json, sys
    import agentlog
    from agentlog._state import STATE

    url, key, spool, tag = sys.argv[1:5]
    agentlog.init(exporter="otlp", endpoint=url, api_key=key, spool_dir=spool,
                  export_timeout=1.0, shutdown_timeout=3.0)
    for s in range(2):
        with agentlog.session(f"{tag}-{s}"):
            for i in range(3):
                agentlog.track_tool_call("t", input={"tag": tag, "i": i}, output=i)
    pipeline = STATE.pipeline
    agentlog.flush(3.0)
    flushed = pipeline.exporter.force_flush(1.0)
    agentlog.shutdown()
    pipeline._thread.join(10.0)
    st = pipeline.status()
    print(json.dumps({"flushed": flushed, "observed": st.observed, "spooled": st.spooled,
                      "failed": st.failed, "dropped": st.dropped}))
    """
)


def _run(url: str, key: str, spool: Path, tag: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", AGENT, url, key, str(spool), tag],
        capture_output=True, text=True, timeout=90, env=agent_env(),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    rep: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return rep


def test_otlp_spool_is_per_destination_and_drained_at_shutdown(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    spool = tmp_path / "spool"
    down = _run(url, KEY, spool, "a")  # nothing listens yet
    assert down["flushed"] is False  # spooled is not delivered
    assert (down["observed"], down["failed"], down["dropped"]) == (0, 0, 0)
    assert down["spooled"] == 10
    [first_dir] = {p.parent for p in spool_files(spool)}
    kept = sorted(p.name for p in spool_files(first_dir))

    with Receiver(port) as receiver:
        other = _run(url, OTHER_KEY, spool, "b")  # a key the receiver refuses (401)
        assert other["observed"] == 0 and other["spooled"] == 10
        assert sorted(p.name for p in spool_files(first_dir)) == kept  # untouched
        assert sum(receiver.spans.values()) == 0

        good = _run(url, KEY, spool, "c")
        assert good["flushed"] is True, good
        assert (good["spooled"], good["failed"], good["dropped"]) == (0, 0, 0)
        assert spool_files(first_dir) == []  # the earlier run's backlog went out at shutdown
        # Two runs of two sessions: a root span and three tool spans each, every one once.
        assert len(receiver.spans) == 16 and set(receiver.spans.values()) == {1}
