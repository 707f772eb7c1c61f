"""Judging actions under a ruleset: verdicts, their ActionJudged events, and readiness."""

from __future__ import annotations

from dataclasses import dataclass

from apollo.v1 import events_pb2 as pb
from services.judge.rules import Case, Check, Reason, Rule, Verdict
from services.judge.ruleset import RULE_KINDS, Ruleset
from services.judge.steps import StepView
from services.trajectory.derived_ids import derived_event_id

_VERDICT_PROTO = {Verdict.KEEP: pb.VERDICT_KEEP, Verdict.MASK: pb.VERDICT_MASK}


@dataclass(frozen=True, slots=True)
class ActionVerdict:
    """The judge's verdict on one action under one ruleset version."""

    action_id: str
    step_index: int
    ruleset_version: str
    verdict: Verdict
    # Every rule that fired, mask and keep rules alike, in ruleset order.
    reasons: tuple[Reason, ...]
    # The judge model of the ruleset's llm_judge rule; None for a purely symbolic ruleset.
    judge_model: pb.ModelSpec | None = None

    def to_proto(self) -> pb.ActionJudged:
        """The ActionJudged body of this verdict."""
        return pb.ActionJudged(
            action_id=self.action_id,
            step_index=self.step_index,
            ruleset_version=self.ruleset_version,
            verdict=_VERDICT_PROTO[self.verdict],
            reasons=[
                pb.JudgeReason(
                    rule_id=reason.rule_id,
                    detail=reason.detail,
                    evidence_step_indices=list(reason.evidence_steps),
                    quote=reason.quote,
                )
                for reason in self.reasons
            ],
            judge_model=self.judge_model,
        )


def verdict_event_id(action: pb.Event, ruleset_version: str) -> str:
    """The event_id of the verdict on `action` under a version: the same on every re-run."""
    return derived_event_id(action.occurred_at, "action_judged", action.event_id, ruleset_version)


def judge_trajectory(view: StepView, ruleset: Ruleset) -> list[ActionVerdict]:
    """The verdicts on every action of a trajectory, in step order."""
    judging = _judging(view, ruleset)
    return [judging.verdict(position) for position in range(len(view.steps))]


def judge_action(view: StepView, position: int, ruleset: Ruleset) -> ActionVerdict:
    """The verdict on the action at `position` in the view's steps (of a growing view, one
    whose lookahead window is in: `ready_positions`)."""
    return _judging(view, ruleset).verdict(position)


def ready_positions(view: StepView, lookahead: int) -> range:
    """Positions of the actions whose lookahead window is complete, in a view of settled
    steps (`StepViews.settled`).

    A step's guidance is known once the next action is proposed (guidance is delivered
    at the step boundary), which is when it settles; so judging the action at `p` waits
    for its next `lookahead` steps to settle, or for the end.
    """
    settled = len(view.steps)
    return range(settled) if view.ended else range(max(0, settled - lookahead))


def _judging(view: StepView, ruleset: Ruleset) -> _Judging:
    """The view's judging pass under `ruleset`: what it worked out stays true as it grows."""
    key = (_Judging, ruleset.version)
    judging = view.memo.get(key)
    if judging is None:
        judging = view.memo[key] = _Judging(view, ruleset)
    return judging


class _Judging:
    """One judging pass; remembers the base verdicts that propagation asks for."""

    def __init__(self, view: StepView, ruleset: Ruleset) -> None:
        self.view = view
        self.ruleset = ruleset
        checks = [(RULE_KINDS[rule.kind].check, rule) for rule in ruleset.rules]
        self.base = [(check, rule) for check, rule in checks if not rule.propagating]
        self.propagating = [(check, rule) for check, rule in checks if rule.propagating]
        self.masking = {rule.id for rule in ruleset.rules if rule.verdict is Verdict.MASK}
        # Each position's verdict of the non-propagating rules, and propagation's memo.
        self.base_reasons: dict[int, tuple[Reason, ...]] = {}
        self.memo: dict = {}

    def verdict(self, position: int) -> ActionVerdict:
        """The verdict on the action at `position`."""
        case = self._case(position)
        reasons = self._base_reasons(position, case)
        if self.propagating:
            reasons += self._fired(case, self.propagating)
        step = case.step
        masked = any(reason.rule_id in self.masking for reason in reasons)
        return ActionVerdict(
            action_id=step.action_id,
            step_index=step.index,
            ruleset_version=self.ruleset.version,
            verdict=Verdict.MASK if masked else Verdict.KEEP,
            reasons=reasons,
        )

    def _case(self, position: int) -> Case:
        return Case(self.view, position, self._base_masked, self.memo)

    def _base_masked(self, position: int) -> bool:
        return any(reason.rule_id in self.masking for reason in self._base_reasons(position))

    def _base_reasons(self, position: int, case: Case | None = None) -> tuple[Reason, ...]:
        found = self.base_reasons.get(position)
        if found is None:
            found = self._fired(case or self._case(position), self.base)
            self.base_reasons[position] = found
        return found

    @staticmethod
    def _fired(case: Case, checks: list[tuple[Check, Rule]]) -> tuple[Reason, ...]:
        return tuple([reason for check, rule in checks if (reason := check(case, rule))])
