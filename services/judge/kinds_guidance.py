"""Rule kinds that take a human's word: later `<real_user>` messages and annotator flags."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from services.judge.rules import Case, Patterns, Reason, Rule, RuleKind, first_match
from services.judge.steps import Guidance, JudgedStep

KILLING_TOOLS = ("kill_session_processes", "close_session")


class _Windowed(Rule):
    """A rule that reads the guidance of the next `within_steps` steps."""

    within_steps: int = Field(
        default=5, ge=0, description="How many later steps a human has to react (the lookahead)"
    )

    def window(self) -> int:
        """The rule waits for `within_steps` later steps."""
        return self.within_steps


def _guidance_within(case: Case, steps: int) -> Iterator[tuple[JudgedStep, Guidance]]:
    """The guidance that arrived after this action and within `steps` later steps."""
    guided = case.view.guided_positions
    # Only the steps that guidance followed are visited: most actions have none near.
    for at in range(bisect_left(guided, case.position), len(guided)):
        if guided[at] > case.position + steps:
            return
        step = case.view.steps[guided[at]]
        for guidance in step.guidance_after:
            yield step, guidance


class KillDefended(_Windowed):
    """Killing a job that a later `<real_user>` message defends."""

    kind: Literal["kill_defended"] = "kill_defended"
    patterns: Patterns = Field(
        default=(
            r"\b(do not|don't|shouldn't|should not|why did you) (kill|close|stop)",
            r"\bwas (still )?running\b",
            r"\b(keep|leave) it running\b",
        ),
        description="Regular expressions (case-insensitive) of a message defending the job",
    )


def kill_defended(case: Case, rule: KillDefended) -> Reason | None:
    """Fires on a kill or close of a session when later guidance defends what ran there."""
    step = case.step
    if step.tool not in KILLING_TOOLS:
        return None
    for later, guidance in _guidance_within(case, rule.within_steps):
        if first_match(rule.patterns, guidance.text):
            detail = f"{step.tool} {step.argument('session')}: a later message defends the job"
            return case.reason(rule, detail, (step.index, later.index), guidance.text)
    return None


class CorrectionRejects(_Windowed):
    """An action a later `<real_user>` correction rejects."""

    kind: Literal["correction_rejects"] = "correction_rejects"


def correction_rejects(case: Case, rule: CorrectionRejects) -> Reason | None:
    """Fires when a correction comes right after the action or names what it worked on."""
    step = case.step
    for later, guidance in _guidance_within(case, rule.within_steps):
        if not guidance.is_correction:
            continue
        named = _named_subject(step, guidance.text)
        if later is step or named:
            why = f"names {named}" if named else "came right after it"
            detail = f"a correction after step {later.index} {why}"
            return case.reason(rule, detail, (step.index, later.index), guidance.text)
    return None


def _named_subject(step: JudgedStep, text: str) -> str:
    """The file, session or command of `step` that `text` names, "" if none."""
    for name in ("path", "session", "command"):
        value = step.argument(name)
        if value and re.search(rf"(?<![\w/.-]){re.escape(value)}(?![\w/-])", text):
            return value
    return ""


class AnnotatorFlagged(_Windowed):
    """A step an annotator flagged as wrong (`flagged_step_indices`)."""

    kind: Literal["annotator_flagged"] = "annotator_flagged"


def annotator_flagged(case: Case, rule: AnnotatorFlagged) -> Reason | None:
    """Fires when guidance within the window flags this step."""
    step = case.step
    for later, guidance in _guidance_within(case, rule.within_steps):
        if step.index in guidance.flagged_step_indices:
            detail = f"flagged by an annotator after step {later.index}"
            quote = guidance.text or "(flag without a message)"
            return case.reason(rule, detail, (step.index, later.index), quote)
    return None


KINDS = (
    RuleKind(KillDefended, kill_defended),
    RuleKind(CorrectionRejects, correction_rejects),
    RuleKind(AnnotatorFlagged, annotator_flagged),
)
