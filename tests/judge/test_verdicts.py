"""Verdicts: their ActionJudged events and ids, the step view they judge, and readiness."""

from __future__ import annotations

import pytest

from apollo.v1 import events_pb2 as pb
from services.judge.kinds_actions import FailedAction
from services.judge.kinds_guidance import AnnotatorFlagged
from services.judge.rules import Verdict
from services.judge.ruleset import Ruleset
from services.judge.steps import StepViews
from services.judge.verdicts import (
    judge_action,
    judge_trajectory,
    ready_positions,
    verdict_event_id,
)
from services.trajectory import fold
from tests.judge.conftest import Call, Say, ScriptedRun

pytestmark = pytest.mark.timeout(30)

LS = Call("list_files", {"path": "."}, fields={"content": "a.py"})
BROKEN = Call("open_file", {"path": "b.py"}, success=False, error="'b.py' is not a file")
RULESET = Ruleset(
    rules=(
        FailedAction(id="failed", verdict="mask"),
        AnnotatorFlagged(id="noted", verdict="keep", within_steps=1),
    )
)


def test_a_mask_rule_masks_and_a_keep_rule_only_gives_its_reason() -> None:
    run = ScriptedRun().play(LS, Say("look", flags=(0, 1)), BROKEN)
    keep, mask = judge_trajectory(run.view, RULESET)
    assert (keep.verdict, [r.rule_id for r in keep.reasons]) == (Verdict.KEEP, ["noted"])
    assert (mask.verdict, [r.rule_id for r in mask.reasons]) == (Verdict.MASK, ["failed"])
    assert judge_action(run.view, 1, RULESET) == mask


def test_the_verdict_converts_to_action_judged_with_its_evidence() -> None:
    run = ScriptedRun().play(LS, BROKEN)
    verdict = judge_trajectory(run.view, RULESET)[1]
    assert verdict.to_proto() == pb.ActionJudged(
        action_id=run.view.steps[1].action_id,
        step_index=1,
        ruleset_version=RULESET.version,
        verdict=pb.VERDICT_MASK,
        reasons=[
            pb.JudgeReason(
                rule_id="failed",
                detail="open_file failed",
                evidence_step_indices=[1],
                quote="'b.py' is not a file",
            )
        ],
    )


def test_the_verdict_id_depends_only_on_the_action_and_the_version() -> None:
    run = ScriptedRun().play(LS, BROKEN)
    first, second = (e for e in run.events if e.HasField("action_proposed"))
    assert verdict_event_id(first, "sha256:a") == verdict_event_id(first, "sha256:a")
    assert verdict_event_id(first, "sha256:a") != verdict_event_id(first, "sha256:b")
    assert verdict_event_id(first, "sha256:a") != verdict_event_id(second, "sha256:a")


def test_guidance_belongs_to_the_action_it_arrived_after() -> None:
    run = ScriptedRun().play(LS, Say("first"), LS, LS, Say("last"), end=False)
    view = run.view
    assert [[g.text for g in step.guidance_after] for step in view.steps] == [
        ["first"],
        [],
        ["last"],
    ]


def test_an_action_is_ready_once_its_window_is_in_the_log() -> None:
    run = ScriptedRun().play(LS, LS, LS, LS, end=False)
    # The newest action has no proposed successor, so its guidance may still arrive.
    assert tuple(ready_positions(run.settled, lookahead=0)) == (0, 1, 2)
    assert tuple(ready_positions(run.settled, lookahead=2)) == (0,)
    assert tuple(ready_positions(run.settled, lookahead=5)) == ()
    # A replay missing an observation: nothing from that step on is ready.
    missing = [
        e
        for e in run.events
        if e.observation_recorded.step_index != 1 or not e.HasField("observation_recorded")
    ]
    assert tuple(ready_positions(StepViews().settled(fold(missing)), lookahead=0)) == (0,)
    run.event(pb.TrajectoryEnded(reason=pb.END_REASON_FINISHED))
    assert tuple(ready_positions(run.settled, lookahead=5)) == (0, 1, 2, 3)
