"""What a rule is: its model (id, verdict, parameters), what it sees, and the reason it gives."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.judge.steps import JudgedStep, StepView

# Quotes stay short: they point a reader at the evidence, they do not copy it.
MAX_QUOTE_CHARS = 160


def _compiles(patterns: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"{pattern!r} is not a regular expression: {error}") from None
    return patterns


# Regular expressions, checked when the ruleset is parsed rather than when a rule fires.
Patterns = Annotated[tuple[str, ...], AfterValidator(_compiles)]


class Verdict(StrEnum):
    """What a rule that fires says about the action."""

    MASK = "mask"
    KEEP = "keep"


class Rule(BaseModel):
    """One rule of a ruleset; each kind adds its parameters as fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # A propagating rule decides from the other rules' verdicts on earlier actions.
    propagating: ClassVar[bool] = False

    kind: str = Field(description="The registered kind of rule, which says what it checks")
    id: str = Field(
        min_length=1,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Unique id of the rule, named in every reason it gives, e.g. 'failed-action'",
    )
    description: str = Field(
        default="", description="What the rule catches, for people; not part of the version"
    )
    verdict: Verdict = Field(
        description="'mask' drops the action from the training loss when the rule fires; "
        "'keep' only records the reason"
    )

    def window(self) -> int:
        """The number of later steps this rule needs to judge an action (its lookahead)."""
        return 0


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a rule fired on an action, with its evidence."""

    rule_id: str
    detail: str
    # Step indices the rule looked at to decide.
    evidence_steps: tuple[int, ...]
    quote: str


@dataclass(frozen=True, slots=True)
class Case:
    """One action to judge, in its trajectory."""

    view: StepView
    position: int
    # Whether the non-propagating mask rules mask the action at a position (propagation's input).
    base_masked: Callable[[int], bool]
    # What propagating rules remember within one judging pass (it follows `base_masked`).
    memo: dict = field(default_factory=dict)

    @property
    def step(self) -> JudgedStep:
        """The action being judged."""
        return self.view.steps[self.position]

    def reason(self, rule: Rule, detail: str, steps: tuple[int, ...], quote: str) -> Reason:
        """A reason of `rule` about this action."""
        return Reason(rule.id, detail, tuple(sorted(set(steps))), short(quote))


Check = Callable[[Case, Rule], Reason | None]


@dataclass(frozen=True, slots=True)
class RuleKind:
    """A kind of rule: its model (the parameters) and its pure check."""

    model: type[Rule]
    check: Check

    @property
    def name(self) -> str:
        """The `kind` a ruleset names it by."""
        return self.model.model_fields["kind"].default


def short(text: str) -> str:
    """`text` on one line, cut to a quote's length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_QUOTE_CHARS else flat[: MAX_QUOTE_CHARS - 1] + "…"


def first_match(patterns: tuple[str, ...], text: str) -> str | None:
    """The text the first matching pattern (case-insensitive) matched, None if none does."""
    for pattern in patterns:
        found = re.search(pattern, text, re.IGNORECASE)
        if found:
            return found.group(0)
    return None
