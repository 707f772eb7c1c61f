"""Fixtures of the model-backend tests: loopback fake APIs and the real local model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI

from services.llm.local import LocalBackend
from services.llm.local_model import LocalModel
from services.llm.model_files import gguf_path, models_dir


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


@pytest.fixture(scope="session")
def local_backend() -> LocalBackend:
    """The real model, loaded once (converted on the very first load)."""
    if not gguf_path().is_file():
        pytest.skip(
            f"the local model is not fetched into {models_dir()}: scripts/fetch-local-model"
        )
    backend = LocalBackend()
    asyncio.run(backend.load())
    return backend


@pytest.fixture(scope="session")
def loaded(local_backend: LocalBackend) -> LocalModel:
    return local_backend.loaded_model()
