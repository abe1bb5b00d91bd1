from __future__ import annotations

import logging

import pytest

from agentlog import _log


def test_a_key_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="agentlog"):
        for _ in range(3):
            _log.warn_once("test-once", "agentlog: once", exc_info=False)
    assert caplog.text.count("agentlog: once") == 1


def test_many_distinct_keys_never_mute_the_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="agentlog"):
        for i in range(_log._MAX_SEEN + 50):
            _log.warn_once(f"flood-{i}", "flood %s", i, exc_info=False)
        _log.warn_once("after-the-flood", "still heard", exc_info=False)
    assert "still heard" in caplog.text
    assert len(_log._seen) <= _log._MAX_SEEN
