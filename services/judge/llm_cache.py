"""The cache of judge-model answers, by (prompt digest, judge model): the port and its
in-memory adapter. Re-judging with an unchanged LLM rule reads it instead of calling."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class JudgementKey:
    """What a judge-model answer depends on: the exact prompt and the model asked."""

    prompt_digest: str
    # The judge model's backend spec, e.g. "anthropic:claude-x".
    judge_model: str


class LlmJudgementCache(Protocol):
    """Judge-model answers (their canonical JSON) by key; an answer once stored never changes."""

    async def get(self, key: JudgementKey) -> str | None:
        """The answer stored under `key`, None if there is none."""
        ...

    async def put(self, key: JudgementKey, answer_json: str) -> None:
        """Store an answer; a key stored already keeps its first answer."""
        ...

    async def stored(self, keys: Iterable[JudgementKey]) -> set[JudgementKey]:
        """Which of `keys` have an answer (one round trip, for estimates)."""
        ...


class InMemoryLlmJudgementCache:
    """The cache in a dict: for tests and for runs that need nothing kept."""

    def __init__(self) -> None:
        self._answers: dict[JudgementKey, str] = {}

    def __len__(self) -> int:
        return len(self._answers)

    async def get(self, key: JudgementKey) -> str | None:
        """The answer stored under `key`, None if there is none."""
        return self._answers.get(key)

    async def put(self, key: JudgementKey, answer_json: str) -> None:
        """Store an answer; a key stored already keeps its first answer."""
        self._answers.setdefault(key, answer_json)

    async def stored(self, keys: Iterable[JudgementKey]) -> set[JudgementKey]:
        """Which of `keys` have an answer."""
        return {key for key in keys if key in self._answers}
