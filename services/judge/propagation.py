"""Propagation: an action that depends on a masked one is masked too, until a recovery."""

from __future__ import annotations

from bisect import bisect_left
from typing import ClassVar, Literal

from pydantic import Field

from services.judge.rules import Case, Reason, Rule, RuleKind
from services.judge.steps import JudgedStep


class Propagation(Rule):
    """Mask the actions on a masked action's file or session until the next clean success."""

    propagating: ClassVar[bool] = True

    kind: Literal["propagation"] = "propagation"
    resources: tuple[Literal["path", "session"], ...] = Field(
        default=("path", "session"),
        description="What dependence follows: actions naming the same file path or session",
    )
    recovery_tools: tuple[str, ...] = Field(
        default=("create_file", "edit_file", "run_command"),
        description="Tools whose successful, unmasked call on the resource ends the chain",
    )


def propagation(case: Case, rule: Propagation) -> Reason | None:
    """Fires when an earlier masked action on the same resource was not recovered from yet."""
    step = case.step
    # A masked action needs no second reason, and a clean recovery is the end of the chain.
    if case.base_masked(case.position) or _recovers(step, rule):
        return None
    for name, value in step.resources:
        if name not in rule.resources:
            continue
        cause = _unrecovered_mask(case, rule, (name, value))
        if cause is not None:
            masked = case.view.steps[cause]
            detail = f"depends on the masked step {masked.index} through {name} {value}"
            return case.reason(rule, detail, (masked.index, step.index), f"{masked.tool} {value}")
    return None


def _unrecovered_mask(case: Case, rule: Propagation, resource: tuple[str, str]) -> int | None:
    """The position of the masked action on `resource` with no recovery since, if any."""
    positions = case.view.positions_by_resource.get(resource, ())
    # Per count of earlier steps on the resource, the answer; each is worked out once a pass.
    causes = case.memo.setdefault((rule, resource), {0: None})
    earlier = bisect_left(positions, case.position)
    unanswered = []
    while earlier not in causes:
        unanswered.append(earlier)
        position = positions[earlier - 1]
        if case.base_masked(position):
            causes[earlier] = position
        elif _recovers(case.view.steps[position], rule):
            causes[earlier] = None
        else:
            earlier -= 1
    for count in unanswered:
        causes[count] = causes[earlier]
    return causes[earlier]


def _recovers(step: JudgedStep, rule: Propagation) -> bool:
    return step.tool in rule.recovery_tools and step.succeeded


KINDS = (RuleKind(Propagation, propagation),)
