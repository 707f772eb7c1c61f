"""The built-in sample trajectory that `apollo demo` imports."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from apollo.v1 import events_pb2 as pb
from services.cli.samples import SAMPLE_TRAJECTORY
from services.eventlog.codec import decode, encode
from services.eventlog.jsonl import from_json_line
from services.trajectory import Budgets, TrajectoryStatus, fold

MAKE_SAMPLE = Path(__file__).resolve().parents[1] / "golden" / "make_sample.py"
GUIDANCE = "Do not run this inference script. You have already run another training script."


def _sample() -> list[pb.Event]:
    lines = SAMPLE_TRAJECTORY.read_text(encoding="utf-8").splitlines()
    return [decode(encode(from_json_line(line))) for line in lines]


def test_the_sample_is_exactly_what_its_script_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_sample", MAKE_SAMPLE)
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert SAMPLE_TRAJECTORY.read_text(encoding="utf-8") == script.sample_text()


def test_every_line_of_the_sample_is_an_acceptable_event_of_one_trajectory() -> None:
    events = _sample()
    assert 12 <= len(events) <= 20
    assert len({event.event_id for event in events}) == len(events)
    assert len({event.trajectory_id for event in events}) == 1
    assert events[0].HasField("trajectory_started")
    assert events[-1].HasField("trajectory_ended")
    times = [event.occurred_at.ToDatetime() for event in events]
    assert times == sorted(times)


def test_the_sample_folds_to_a_finished_run_whose_correction_was_delivered_once() -> None:
    state = fold(_sample())
    assert state.status is TrajectoryStatus.FINISHED
    assert [step.index for step in state.steps] == list(range(8))
    assert all(step.observed for step in state.steps)
    assert [step.tool_name for step in state.steps][-2:] == ["eval", "finish"]
    (correction,) = state.guidance
    assert correction.guidance_submitted.text == GUIDANCE
    assert correction.guidance_submitted.kind == pb.GUIDANCE_KIND_CORRECTION
    assert state.delivered_guidance_ids == (correction.event_id,)
    assert state.pending_guidance == ()
    delivering = [s.index for s in state.steps if s.action.action_proposed.delivered_guidance_ids]
    assert delivering == [4]
    assert state.flagged_steps == (3,)
    assert state.used.evals == 1
    assert (state.last_eval_score, state.best_score, state.final_score) == (61.5, 63.0, 63.0)
    assert state.budgets == Budgets(max_steps=4000, max_seconds=6 * 3600, max_evals=3)
    assert state.started.trajectory_started.policy.model == "SmolLM2-135M-Instruct"
