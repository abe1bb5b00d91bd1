"""Loaded for every test run from the repository root (``make test``): makes the integrations'
shared test support (``integrations/_testsupport``) importable as ``agentlog_testsupport``."""

from __future__ import annotations

import sys
from pathlib import Path

_SUPPORT = str(Path(__file__).resolve().parent / "integrations" / "_testsupport")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)
