"""A ResearchGym / InnovatorBench node becomes an imported trajectory: every part as events."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

import pytest

from apollo.v1 import events_pb2 as pb
from services.cli.innovatorbench import read_node_events
from services.eventlog.codec import encode
from services.trajectory import fold, is_agent_turn
from tests.importing.innovatorbench_files import (
    MESSAGE_CALLS,
    NODE_FILE,
    NODE_ID,
    RESPONSE_TOOL,
    SUMMARIZED_ACTIONS,
    edited_node,
    node_document,
    tool_calls_as_reprs,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def events() -> list[pb.Event]:
    return read_node_events(NODE_FILE)


def of_kind(events: list[pb.Event], kind: str) -> list[pb.Event]:
    return [event for event in events if event.WhichOneof("body") == kind]


def test_every_tool_call_of_the_node_is_an_action(events) -> None:
    actions = of_kind(events, "action_proposed")
    names = Counter(a.action_proposed.tool_call.name for a in actions[:-1])
    assert names == MESSAGE_CALLS
    assert actions[-1].action_proposed.tool_call.name == RESPONSE_TOOL
    first = node_document()["messages"][4]["tool_call"]
    call = actions[0].action_proposed.tool_call
    assert (call.call_id, call.name) == (first["call_id"], first["name"])
    assert json.loads(call.arguments_json) == first["arguments"]


def test_steps_follow_the_summarized_ones_and_each_is_observed(events) -> None:
    actions = of_kind(events, "action_proposed")
    indices = [a.action_proposed.step_index for a in actions]
    assert indices == list(range(SUMMARIZED_ACTIONS, SUMMARIZED_ACTIONS + len(actions)))
    observations = of_kind(events, "observation_recorded")
    assert len(observations) == len(actions)
    for action, observation in zip(actions, observations, strict=True):
        body = observation.observation_recorded
        assert body.action_id == observation.causation_id == action.event_id
        assert body.step_index == action.action_proposed.step_index
        assert body.tool_name == action.action_proposed.tool_call.name
        assert body.success is json.loads(body.observation_json)["success"] is True
    recorded = [observation.observation_recorded for observation in observations]
    scores = [body.eval_score for body in recorded if body.HasField("eval_score")]
    assert [round(score, 3) for score in scores] == [5.278, 5.376]


def test_the_summary_replaces_the_earlier_actions(events) -> None:
    (requested,) = of_kind(events, "summary_requested")
    (summarized,) = of_kind(events, "context_summarized")
    body = summarized.context_summarized
    assert body.request_id == summarized.causation_id == requested.event_id
    assert (body.first_step_index, body.last_step_index) == (0, SUMMARIZED_ACTIONS - 1)
    assert body.action_count == SUMMARIZED_ACTIONS
    assert body.summary.startswith("<state_snapshot>")
    assert body.summary.endswith("</state_snapshot>")
    assert "<state_of_the_art>" in body.summary
    actions = of_kind(events, "action_proposed")
    assert {a.action_proposed.summary_id for a in actions} == {summarized.event_id}


def test_the_start_holds_the_prompt_the_model_and_marks_the_import(events) -> None:
    document = node_document()
    start = events[0]
    body = start.trajectory_started
    assert start.trajectory_id == NODE_ID
    assert body.system_prompt == document["messages"][0]["content"]
    assert body.task_description.startswith("## Motivation")
    assert "<task_description>" not in body.task_description
    assert body.policy.model == document["response"]["model"]
    assert body.labels["imported_from"] == "innovatorbench"
    assert body.labels["innovatorbench_node_id"] == NODE_ID
    last = of_kind(events, "action_proposed")[-1].action_proposed
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (95344, 88)


def test_an_unfinished_node_is_never_anyones_turn(events) -> None:
    state = fold(events)
    assert state.imported
    assert not state.is_over
    assert all(step.observed for step in state.steps)
    assert not is_agent_turn(state)
    assert state.best_score == pytest.approx(5.376, abs=1e-3)


def test_ids_are_derived_so_a_second_read_is_the_same_events(events) -> None:
    again = read_node_events(NODE_FILE)
    assert [encode(e) for e in again] == [encode(e) for e in events]
    ids = [event.event_id for event in events]
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(event_id).version for event_id in ids} == {7}


def test_python_repr_tool_calls_give_the_same_events(events, tmp_path: Path) -> None:
    path = edited_node(tmp_path, tool_calls_as_reprs)
    assert [encode(e) for e in read_node_events(path)] == [encode(e) for e in events]


def test_a_done_node_ends_the_trajectory(tmp_path: Path) -> None:
    path = edited_node(tmp_path, lambda document: document.update(node_type="done"))
    events = read_node_events(path)
    ended = events[-1].trajectory_ended
    assert ended.reason == pb.END_REASON_FINISHED
    assert ended.steps == SUMMARIZED_ACTIONS + len(of_kind(events, "action_proposed"))
    assert fold(events).is_over


def test_real_user_turns_become_guidance_delivered_to_the_next_step(tmp_path: Path) -> None:
    advice = "Do not run this inference script. You have already run another training script."

    def add_guidance(document: dict) -> None:
        turn = {"role": "user", "content": f"<real_user>{advice}</real_user>",
                "reasoning": None, "tool_call": None, "tool_result": None}  # fmt: skip
        document["messages"].insert(6, turn)

    events = read_node_events(edited_node(tmp_path, add_guidance))
    (guidance,) = of_kind(events, "guidance_submitted")
    assert guidance.guidance_submitted.text == advice
    actions = of_kind(events, "action_proposed")
    assert list(actions[1].action_proposed.delivered_guidance_ids) == [guidance.event_id]
    assert [a for a in actions if a.action_proposed.delivered_guidance_ids] == [actions[1]]
    assert fold(events).pending_guidance == ()
