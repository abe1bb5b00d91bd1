"""The agentlog collector: an HTTP API over a Store (``agentlog serve``).

``create_app(db, keys=KeyRing.from_env())`` builds the FastAPI app; ``IngestLimits`` bounds
ingest bodies. Needs the ``server`` extra (``pip install 'agentlog[server]'``).
"""

from __future__ import annotations

from ._ingest import IngestLimits
from .app import create_app
from .auth import KeyRing, create_key

__all__ = ["IngestLimits", "KeyRing", "create_app", "create_key"]
