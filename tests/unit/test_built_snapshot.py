"""Snapshots built from the log when the summarizer's model gives none: a chain of them
carries its memory forward and stays bounded."""

from __future__ import annotations

import json

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event, new_event_id
from services.trajectory import fold
from services.trajectory.snapshot import built_snapshot, finished_snapshot
from services.trajectory.summary_prompt import SummarySpan

CALLS = [
    ("create_file", {"path": "clean.py", "content": "x"}),
    ("run_command", {"command": "python clean.py\n--fast", "session": "s1"}),
    ("eval", {}),
    ("edit_file", {"path": "clean.py", "start": 1, "end": 1, "content": "y"}),
]


def trajectory_events(steps: int, guidance_at: int | None = None) -> list[pb.Event]:
    """A started trajectory with `steps` actions cycling through CALLS, each observed; with
    guidance delivered into step `guidance_at`."""
    trajectory_id = new_event_id()

    def event(body) -> pb.Event:
        return new_event(body, trajectory_id=trajectory_id, service="test")

    events = [event(pb.TrajectoryStarted(task_id="dedup"))]
    guidance = event(pb.GuidanceSubmitted(annotator="ann", text="Normalize <case> & spaces"))
    for index in range(steps):
        delivered = []
        if index == guidance_at:
            events.append(guidance)
            delivered = [guidance.event_id]
        name, arguments = CALLS[index % len(CALLS)]
        call = pb.ToolCall(call_id=f"c{index}", name=name, arguments_json=json.dumps(arguments))
        action = event(
            pb.ActionProposed(
                step_index=index,
                tool_call=call,
                prompt_digest="sha256:00",
                delivered_guidance_ids=delivered,
            )
        )
        observed = pb.ObservationRecorded(
            action_id=action.event_id,
            step_index=index,
            tool_name=name,
            success=True,
            message="ok\nsecond line",
            eval_score=10.0 * index if name == "eval" else None,
        )
        events += [action, event(observed)]
    return events


def chain(steps: int, guidance_at: int | None = None) -> list[str]:
    """Built snapshots of one step each, every one building on the one before."""
    events = trajectory_events(steps, guidance_at)
    state = fold(events)
    previous, snapshots = None, []
    for index in range(steps):
        text = finished_snapshot("no snapshot here", state, SummarySpan(index, index, previous))
        previous = new_event(
            pb.ContextSummarized(summary=text, last_step_index=index),
            trajectory_id=state.trajectory_id,
            service="test",
        )
        snapshots.append(text)
    return snapshots


def test_a_chain_of_built_snapshots_never_nests_and_stays_bounded() -> None:
    snapshots = chain(60)
    last = snapshots[-1]
    assert last.count("<state_snapshot>") == 1
    assert "&amp;" not in last  # nothing escaped twice
    assert len(last) < 2 * max(len(s) for s in snapshots[:8])
    assert last.count("\n", last.index("<recent_actions>"), last.index("</recent_actions>")) == 9


def test_sections_carry_forward_merged_with_the_new_span() -> None:
    last = chain(6)[-1]
    # One line per file, its newest change winning (CALLS come round again at step 4).
    assert "<file_and_browser_state>clean.py: create_file at step 4<" in last
    assert "s1: last ran python clean.py --fast" in last  # one line per session
    assert "step 2: eval score 20" in last  # from the first snapshots of the chain
    assert "step 0: create_file" in last
    assert "step 5: run_command" in last


def test_reflections_are_carried_once_as_written() -> None:
    last = chain(8, guidance_at=2)[-1]
    assert last.count("<reflection>") == 1
    assert "Normalize &lt;case&gt; &amp; spaces" in last


def test_a_free_text_summary_becomes_the_knowledge_of_the_next() -> None:
    events = trajectory_events(2)
    state = fold(events)
    previous = new_event(
        pb.ContextSummarized(summary="The data has 3 duplicates.", last_step_index=0),
        trajectory_id=state.trajectory_id,
        service="test",
    )
    built = built_snapshot(state, SummarySpan(1, 1, previous))
    assert "<key_knowledge>The data has 3 duplicates.</key_knowledge>" in built
