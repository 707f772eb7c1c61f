"""The judge-model answer cache: one contract, in memory and in Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.judge.llm_cache import InMemoryLlmJudgementCache, JudgementKey, LlmJudgementCache
from services.judge.pg_llm_cache import PgLlmJudgementCache

pytestmark = pytest.mark.timeout(60)

KEY = JudgementKey("sha256:aa", "anthropic:judge")


@pytest.fixture
async def cache(backend_dsn: str | None) -> AsyncIterator[LlmJudgementCache]:
    """An empty cache of each implementation."""
    if backend_dsn is None:
        yield InMemoryLlmJudgementCache()
        return
    store = await PgLlmJudgementCache.connect(backend_dsn)
    await store.migrate()
    await store.migrate()  # migrating again is harmless
    yield store
    await store.close()


async def test_an_answer_is_read_back_under_its_key_only(cache: LlmJudgementCache) -> None:
    assert await cache.get(KEY) is None
    await cache.put(KEY, '{"verdict":"mask"}')
    assert await cache.get(KEY) == '{"verdict":"mask"}'
    assert await cache.get(JudgementKey(KEY.prompt_digest, "openai:other")) is None
    assert await cache.get(JudgementKey("sha256:bb", KEY.judge_model)) is None


async def test_a_stored_answer_keeps_its_first_value(cache: LlmJudgementCache) -> None:
    await cache.put(KEY, '{"verdict":"mask"}')
    await cache.put(KEY, '{"verdict":"keep"}')
    assert await cache.get(KEY) == '{"verdict":"mask"}'


async def test_stored_says_which_keys_have_an_answer(cache: LlmJudgementCache) -> None:
    other = JudgementKey("sha256:bb", KEY.judge_model)
    await cache.put(KEY, "{}")
    assert await cache.stored([KEY, other]) == {KEY}
    assert await cache.stored([]) == set()
