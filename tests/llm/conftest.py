"""Fixtures of the model-backend tests: loopback fake APIs and a fast retry policy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI

from services.llm.http_json import RetryPolicy


@pytest.fixture
def fast_retry() -> RetryPolicy:
    """Three tries with millisecond waits, so retry tests take no time."""
    return RetryPolicy(attempts=3, initial_wait_s=0.001, max_wait_s=0.01)


@pytest.fixture
async def anthropic_api() -> AsyncIterator[FakeAnthropic]:
    server = await FakeAnthropic().start()
    yield server
    await server.stop()


@pytest.fixture
async def openai_api() -> AsyncIterator[FakeOpenAI]:
    server = await FakeOpenAI().start()
    yield server
    await server.stop()
