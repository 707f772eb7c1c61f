"""Rule kinds about an action on its own or next to the ones before it."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from services.judge.rules import Case, Reason, Rule, RuleKind
from services.judge.steps import JudgedStep, StepView


class NullAction(Rule):
    """The model's answer yielded no valid tool call."""

    kind: Literal["null_action"] = "null_action"


def null_action(case: Case, rule: NullAction) -> Reason | None:
    """Fires on an action without a parsed tool call."""
    step = case.step
    if step.arguments is not None:
        return None
    problem = step.parse_error or f"arguments of {step.tool} are not a JSON object"
    return case.reason(rule, f"no valid tool call ({problem})", (step.index,), problem)


class FailedAction(Rule):
    """The sandbox reported the action as failed."""

    kind: Literal["failed_action"] = "failed_action"


def failed_action(case: Case, rule: FailedAction) -> Reason | None:
    """Fires on an observation with success=false."""
    step = case.step
    if step.observation is None or step.observation.success:
        return None
    error = step.observation.error_message or step.observation.message
    return case.reason(rule, f"{step.tool or 'the action'} failed", (step.index,), error)


class BackToBack(Rule):
    """The same tool called twice in a row, e.g. `sleep` after `sleep`."""

    kind: Literal["back_to_back"] = "back_to_back"
    tool: str = Field(min_length=1, description="The tool that must not follow itself")


def back_to_back(case: Case, rule: BackToBack) -> Reason | None:
    """Fires on a call of `tool` right after another call of it."""
    step = case.step
    if step.tool != rule.tool or case.position == 0:
        return None
    previous = case.view.steps[case.position - 1]
    if previous.tool != rule.tool:
        return None
    detail = f"{rule.tool} right after {rule.tool} (step {previous.index})"
    return case.reason(rule, detail, (previous.index, step.index), _call_text(step))


class RepeatedCall(Rule):
    """The same call repeated while its observation stays the same: a polling loop."""

    kind: Literal["repeated_call"] = "repeated_call"
    run_length: int = Field(
        default=3,
        ge=2,
        description="Fires from the run_length-th identical call with an identical observation on",
    )
    skip_tools: tuple[str, ...] = Field(
        default=("sleep",), description="Tools between the repeats that do not break the run"
    )


def repeated_call(case: Case, rule: RepeatedCall) -> Reason | None:
    """Fires on the run_length-th (and later) repeat of one call with an unchanged observation."""
    step = case.step
    if step.arguments is None or step.observation is None:
        return None
    runs = case.view.index(_Runs, rule)
    if runs.lengths[case.position] < rule.run_length:
        return None
    run = [case.position]
    while len(run) < rule.run_length:
        run.append(runs.previous[run[-1]])
    indices = tuple(case.view.steps[position].index for position in run)
    detail = f"{rule.run_length} identical calls of {step.tool} with an unchanged observation"
    return case.reason(rule, detail, indices, _call_text(step))


class _Runs:
    """Per position, how many identical calls end there, and the position of the one before."""

    def __init__(self, rule: RepeatedCall) -> None:
        self.rule = rule
        self.lengths: list[int] = []
        self.previous: list[int] = []
        self._last_unskipped = -1
        self._last_by_tool: dict[str, int] = {}

    def add(self, view: StepView, position: int) -> None:
        step = view.steps[position]
        # A skipped tool breaks no run, except a run of calls of that tool itself.
        before = self._last_unskipped
        if step.tool in self.rule.skip_tools:
            before = max(before, self._last_by_tool.get(step.tool, -1))
        else:
            self._last_unskipped = position
        self._last_by_tool[step.tool] = position
        same = before >= 0 and _same_call_and_outcome(view.steps[before], step)
        self.lengths.append(self.lengths[before] + 1 if same else 1)
        self.previous.append(before)


def _same_call_and_outcome(a: JudgedStep, b: JudgedStep) -> bool:
    return (
        a.tool == b.tool
        and a.arguments == b.arguments
        and a.observation is not None
        and b.observation is not None
        and a.observation.fields == b.observation.fields
    )


def _call_text(step: JudgedStep) -> str:
    arguments = json.dumps(dict(step.arguments or {}), sort_keys=True, ensure_ascii=False)
    return f"{step.tool} {arguments}"


KINDS = (
    RuleKind(NullAction, null_action),
    RuleKind(FailedAction, failed_action),
    RuleKind(BackToBack, back_to_back),
    RuleKind(RepeatedCall, repeated_call),
)
