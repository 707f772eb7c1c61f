"""The `llm_judge` rule kind: a model reads a window around the action and decides.

Rule kinds are pure functions; a model call is not. So this kind's symbolic check never
fires: the model stage (`llm_stage`) asks the model once the symbolic rules have run, and
`judging.judge_with_models` joins its reasons to the verdict.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from services.judge.rules import Case, Reason, Rule, RuleKind

DEFAULT_QUESTIONS = (
    "Was the action reasonable given what was known at the time?",
    "Did the action advance the plan?",
    "Was the action redundant?",
    "Did the action cause or propagate an error?",
    "Was the action later reverted, or contradicted by the human?",
)

# A spec string of services.llm.backend_from_spec (scripted ones are built by the pool's owner).
MODEL_SPEC = r"^(local|scripted:[A-Za-z0-9._-]+|anthropic:\S+|openai:\S+)$"


class LlmJudge(Rule):
    """A judge model answers yes/no questions about the action, with quoted evidence."""

    kind: Literal["llm_judge"] = "llm_judge"

    model: str = Field(
        pattern=MODEL_SPEC,
        description="The judge model's backend spec: 'anthropic:MODEL', 'openai:MODEL', "
        "'local' or 'scripted:NAME'",
    )
    # The YAML key is `window`; the attribute is named apart from Rule.window(), the lookahead.
    window_steps: int = Field(
        default=2,
        alias="window",
        ge=0,
        le=20,
        description="Steps shown before and after the action (W); also the rule's lookahead",
    )
    questions: tuple[str, ...] = Field(
        default=DEFAULT_QUESTIONS,
        min_length=1,
        max_length=9,
        description="Yes/no questions the model answers, each with a quote from the window",
    )
    max_answer_tokens: int = Field(
        default=1024, ge=64, le=8192, description="Cap on the tokens of the model's answer"
    )

    def window(self) -> int:
        """The later steps the model is shown: the rule's lookahead."""
        return self.window_steps


def _decided_by_the_model(case: Case, rule: LlmJudge) -> Reason | None:
    """Never fires symbolically: the model stage gives this kind's reasons."""
    return None


KINDS = (RuleKind(LlmJudge, _decided_by_the_model),)
