from __future__ import annotations

import anthropic
import pytest
from agentlog_testsupport import Provider
from agentlog_testsupport.fixtures import *  # noqa: F403  (the common fixtures, by name)
from anthropic_fakes import BASE


@pytest.fixture
def provider() -> Provider:
    return Provider(
        name="anthropic",
        env_key="ANTHROPIC_API_KEY",
        base_url=BASE,
        client=lambda: anthropic.Anthropic(api_key="sk-ant-test", max_retries=0),
        aclient=lambda: anthropic.AsyncAnthropic(api_key="sk-ant-test", max_retries=0),
    )
