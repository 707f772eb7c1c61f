"""What judging with the `llm_judge` rules would cost before it runs: uncached calls, tokens.

A backfill prints the estimate first ("N calls, ~T tokens") and stops at its budget. Tokens
are approximate (characters / 3.5), and retries of malformed answers are not foreseen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.judge.judging import llm_rules
from services.judge.llm_cache import JudgementKey, LlmJudgementCache
from services.judge.llm_prompt import judge_prompt
from services.judge.llm_stage import judgement_key
from services.judge.ruleset import Ruleset
from services.judge.steps import StepView
from services.llm.approximate import approximate_token_count
from services.trajectory.prompt_model import Prompt


@dataclass(frozen=True, slots=True)
class JudgeEstimate:
    """The model calls a judging run would make, and their prompt tokens."""

    calls: int
    prompt_tokens: int

    def __str__(self) -> str:
        return f"{self.calls} calls, ~{self.prompt_tokens} tokens"


async def estimate(
    actions: Iterable[tuple[StepView, int]], ruleset: Ruleset, cache: LlmJudgementCache
) -> JudgeEstimate:
    """The calls (not in `cache`) and prompt tokens of judging each (view, position) action."""
    rules = llm_rules(ruleset)
    prompts: dict[JudgementKey, Prompt] = {}
    for view, position in actions:
        for rule in rules:
            asked = judge_prompt(view, position, rule)
            # The same prompt to the same model is asked once, then read from the cache.
            prompts.setdefault(judgement_key(asked, rule), asked.prompt)
    stored = await cache.stored(prompts) if prompts else set()
    uncached = [prompt for key, prompt in prompts.items() if key not in stored]
    tokens = sum(approximate_token_count(prompt.messages, prompt.tools) for prompt in uncached)
    return JudgeEstimate(len(uncached), tokens)
