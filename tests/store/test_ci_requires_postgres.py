"""Under CI, an unreachable PostgreSQL fails the PostgreSQL tests instead of skipping them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST = "tests/store/test_open_store.py::test_backends_implement_the_protocol"


@pytest.mark.parametrize(("ci", "outcome"), [("1", "1 error"), ("", "1 skipped")])
def test_unreachable_postgres(ci: str, outcome: str) -> None:
    env = dict(os.environ, AGENTLOG_TEST_POSTGRES="postgresql://postgres@127.0.0.1:1/none", CI=ci)
    if not ci:
        env.pop("CI")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", TEST, "-k", "postgres"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert outcome in run.stdout, run.stdout[-2000:]
    assert (run.returncode != 0) == bool(ci)
