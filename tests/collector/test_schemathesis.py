from __future__ import annotations
import schemathesis
from hypothesis import settings, HealthCheck
from agentlog.collector import create_app, KeyRing
from agentlog.store import open_store
import tempfile, os
_dir = tempfile.mkdtemp()
store = open_store(os.path.join(_dir, "s.db"), processing=False)
app = create_app(store, keys=KeyRing(env="key-a-123456:a"))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)

@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case):
    r = case.call(headers={"Authorization": "Bearer key-a-123456"})
    assert r.status_code < 500, (case.method, case.formatted_path, r.status_code, r.text)
