from __future__ import annotations

import openai
import pytest
from agentlog_testsupport import Provider
from agentlog_testsupport.fixtures import *  # noqa: F403  (the common fixtures, by name)
from openai_fakes import BASE


@pytest.fixture
def provider() -> Provider:
    return Provider(
        name="openai",
        env_key="OPENAI_API_KEY",
        base_url=BASE,
        client=lambda: openai.OpenAI(api_key="sk-test", max_retries=0),
        aclient=lambda: openai.AsyncOpenAI(api_key="sk-test", max_retries=0),
    )
