"""Judging an action with every rule: the symbolic rules, then the `llm_judge` rules' models.

One function for the live judge and for re-judging the archive, so both give the same
verdicts. Propagation follows the symbolic rules only: it is a pure pass over earlier
verdicts, which a model's answer (cached or not) must not make depend on call order.
"""

from __future__ import annotations

import asyncio
import dataclasses

from services.judge.llm_rule import LlmJudge
from services.judge.llm_stage import LlmJudgeStage, judge_model_spec
from services.judge.rules import Verdict
from services.judge.ruleset import Ruleset
from services.judge.steps import StepView
from services.judge.verdicts import ActionVerdict, judge_action


def llm_rules(ruleset: Ruleset) -> tuple[LlmJudge, ...]:
    """The ruleset's `llm_judge` rules, in order."""
    return tuple(rule for rule in ruleset.rules if isinstance(rule, LlmJudge))


async def judge_with_models(
    view: StepView, position: int, ruleset: Ruleset, stage: LlmJudgeStage
) -> ActionVerdict:
    """The verdict on the action at `position`: masked if a symbolic mask rule fired or a
    judge model says mask under a mask rule; the models' reasons follow the rules'."""
    verdict = judge_action(view, position, ruleset)
    rules = llm_rules(ruleset)
    if not rules:
        return verdict
    judgements = await asyncio.gather(*(stage.judge(view, position, rule) for rule in rules))
    masked = verdict.verdict is Verdict.MASK or any(judgement.masks for judgement in judgements)
    return dataclasses.replace(
        verdict,
        verdict=Verdict.MASK if masked else Verdict.KEEP,
        reasons=verdict.reasons + tuple(j.reason for j in judgements if j.reason is not None),
        # One ModelSpec per verdict: the first llm_judge rule's, whose answers it carries.
        judge_model=judge_model_spec(rules[0]),
    )
