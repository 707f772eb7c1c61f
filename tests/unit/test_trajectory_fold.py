"""The trajectory model: what folding a trajectory's events says about it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given, settings
from hypothesis import strategies as st

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event, new_event_id
from services.trajectory import (
    Budgets,
    BudgetUsage,
    Trajectory,
    TrajectoryStatus,
    apply,
    fold,
    is_agent_turn,
    next_step_index,
)
from services.trajectory.tracker import TrajectoryTracker

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Run:
    """Writes the events of one trajectory the way the services would, one second apart."""

    def __init__(self) -> None:
        self.trajectory_id = new_event_id()
        self.clock = T0

    def event(self, body: Message, service: str = "test", causation_id: str = "") -> pb.Event:
        occurred_at = Timestamp()
        occurred_at.FromDatetime(self.clock)
        self.clock += timedelta(seconds=1)
        return new_event(
            body,
            trajectory_id=self.trajectory_id,
            service=service,
            causation_id=causation_id,
            occurred_at=occurred_at,
        )

    def started(self, max_steps: int = 4000, max_seconds: int = 21600) -> pb.Event:
        budgets = pb.Budgets(max_steps=max_steps, max_seconds=max_seconds, max_evals=3)
        return self.event(pb.TrajectoryStarted(task_id="dedup", budgets=budgets), "gateway")

    def action(
        self, step: int, tool: str = "run_command", delivered: Sequence[str] = ()
    ) -> pb.Event:
        body = pb.ActionProposed(
            step_index=step,
            tool_call=pb.ToolCall(call_id=f"c{step}", name=tool, arguments_json="{}"),
            delivered_guidance_ids=list(delivered),
            prompt_digest="sha256:00",
        )
        return self.event(body, "policy")

    def null_action(self, step: int) -> pb.Event:
        body = pb.ActionProposed(
            step_index=step, parse_error=pb.ParseError(kind="no_tool_call"), prompt_digest="x"
        )
        return self.event(body, "policy")

    def observation(self, action: pb.Event, score: float | None = None) -> pb.Event:
        proposed = action.action_proposed
        body = pb.ObservationRecorded(
            action_id=action.event_id,
            step_index=proposed.step_index,
            tool_name=proposed.tool_call.name,
            success=True,
            eval_score=score,
        )
        return self.event(body, "sandbox", action.event_id)

    def step(self, step: int, tool: str = "run_command", score: float | None = None) -> list:
        action = self.action(step, tool)
        return [action, self.observation(action, score)]

    def guidance(self, text: str = "Stop that.", flagged: Sequence[int] = ()) -> pb.Event:
        body = pb.GuidanceSubmitted(annotator="alice", text=text, flagged_step_indices=flagged)
        return self.event(body, "gateway")

    def summary_requested(self, step: int) -> pb.Event:
        return self.event(pb.SummaryRequested(step_index=step, last_step_index=step), "policy")

    def summarized(self, request: pb.Event) -> pb.Event:
        body = pb.ContextSummarized(request_id=request.event_id, summary="<state_snapshot/>")
        return self.event(body, "summarizer", request.event_id)

    def ended(self, reason: int = pb.END_REASON_FINISHED, **scores: float) -> pb.Event:
        return self.event(pb.TrajectoryEnded(reason=reason, **scores), "sandbox")

    def cancelled(self) -> pb.Event:
        return self.event(pb.TrajectoryCancelled(requested_by="bob"), "gateway")


@pytest.fixture
def run() -> Run:
    return Run()


def test_nothing_folded_is_an_empty_running_trajectory_that_nobody_acts_on() -> None:
    state = fold([])
    assert state == Trajectory()
    assert state.status is TrajectoryStatus.RUNNING
    assert not is_agent_turn(state)
    assert next_step_index(state) == 0


def test_a_started_trajectory_runs_with_its_task_and_budgets(run: Run) -> None:
    state = fold([run.started(max_steps=40, max_seconds=600)])
    assert (state.trajectory_id, state.task_id) == (run.trajectory_id, "dedup")
    assert state.status is TrajectoryStatus.RUNNING
    assert state.budgets == Budgets(max_steps=40, max_seconds=600, max_evals=3)
    assert is_agent_turn(state)


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        (pb.END_REASON_FINISHED, TrajectoryStatus.FINISHED),
        (pb.END_REASON_STEP_BUDGET, TrajectoryStatus.FINISHED),
        (pb.END_REASON_TIME_BUDGET, TrajectoryStatus.FINISHED),
        (pb.END_REASON_ERROR, TrajectoryStatus.FAILED),
        (pb.END_REASON_CANCELLED, TrajectoryStatus.CANCELLED),
        (pb.END_REASON_UNSPECIFIED, TrajectoryStatus.FAILED),
    ],
)
def test_the_end_reason_decides_the_status(run: Run, reason: int, status: TrajectoryStatus) -> None:
    state = fold([run.started(), run.ended(reason)])
    assert state.status is status
    assert state.is_over
    assert state.end_reason == reason
    assert not is_agent_turn(state)


def test_a_cancel_request_is_noted_and_the_run_stays_running_until_it_ends(run: Run) -> None:
    requested = fold([run.started(), run.cancelled()])
    assert requested.cancel_requested
    assert requested.status is TrajectoryStatus.RUNNING
    assert not is_agent_turn(requested)
    ended = apply(requested, run.ended(pb.END_REASON_CANCELLED))
    assert ended.status is TrajectoryStatus.CANCELLED


def test_a_cancel_request_after_the_end_changes_nothing(run: Run) -> None:
    state = fold([run.started(), run.ended(), run.cancelled()])
    assert not state.cancel_requested
    assert state.status is TrajectoryStatus.FINISHED


def test_each_observation_joins_its_action_in_one_step(run: Run) -> None:
    first, second = run.action(0), run.action(1, tool="open_file")
    state = fold([run.started(), first, run.observation(first), second])
    assert [step.index for step in state.steps] == [0, 1]
    assert state.steps[0].observation.observation_recorded.action_id == first.event_id
    assert state.steps[1].action == second
    assert state.steps[1].tool_name == "open_file"
    assert not state.steps[1].observed
    assert not is_agent_turn(state)
    assert next_step_index(state) == 2


def test_a_null_action_is_a_step_without_a_tool(run: Run) -> None:
    state = fold([run.started(), run.null_action(0)])
    assert state.steps[0].is_null_action
    assert state.steps[0].tool_name == ""


def test_an_observation_of_an_unknown_action_is_kept_aside(run: Run) -> None:
    ghost = run.action(7)
    stray = run.observation(ghost)
    state = fold([run.started(), stray])
    assert state.steps == ()
    assert state.stray_observations == (stray,)
    # When the action shows up after all (a replay out of order), the two pair up.
    later = apply(state, ghost)
    assert later.steps[0].observation == stray
    assert later.stray_observations == ()


def test_a_second_observation_of_the_same_action_is_kept_aside(run: Run) -> None:
    action = run.action(0)
    first, again = run.observation(action), run.observation(action)
    state = fold([run.started(), action, first, again])
    assert state.steps[0].observation == first
    assert state.stray_observations == (again,)


def test_guidance_is_pending_until_an_action_delivers_it_exactly_once(run: Run) -> None:
    advice = run.guidance("Use minhash.")
    pending = fold([run.started(), advice])
    assert pending.pending_guidance == (advice,)
    assert pending.delivered_guidance_ids == ()

    delivered = apply(pending, run.action(0, delivered=[advice.event_id]))
    assert delivered.pending_guidance == ()
    assert delivered.delivered_guidance_ids == (advice.event_id,)

    again = apply(delivered, run.action(1, delivered=[advice.event_id]))
    assert again.delivered_guidance_ids == (advice.event_id,)
    assert again.guidance == (advice,)


def test_guidance_an_action_delivered_before_the_log_showed_it_is_never_pending(run: Run) -> None:
    advice = run.guidance()
    state = fold([run.started(), run.action(0, delivered=[advice.event_id]), advice])
    assert state.pending_guidance == ()
    assert state.delivered_guidance_ids == (advice.event_id,)


def test_flagged_steps_are_collected_sorted_and_once(run: Run) -> None:
    state = fold([run.started(), run.guidance(flagged=[4, 2]), run.guidance(flagged=[2, 9])])
    assert state.flagged_steps == (2, 4, 9)


def test_a_requested_summary_blocks_the_agent_until_it_is_there(run: Run) -> None:
    request = run.summary_requested(step=0)
    waiting = fold([run.started(), *run.step(0), request])
    assert waiting.summary_pending
    assert waiting.pending_summary_requests == (request,)
    assert not is_agent_turn(waiting)

    summary = run.summarized(request)
    done = apply(waiting, summary)
    assert not done.summary_pending
    assert done.summaries == (summary,)
    assert done.latest_summary == summary
    assert is_agent_turn(done)


def test_eval_observations_use_the_eval_budget_and_set_the_scores(run: Run) -> None:
    events = [run.started(), *run.step(0, "eval", score=40.0), *run.step(1, "eval", score=35.5)]
    state = fold(events)
    assert state.used.evals == 2
    assert (state.last_eval_score, state.best_score, state.final_score) == (35.5, 40.0, None)


def test_the_end_brings_the_final_score_and_may_raise_the_best(run: Run) -> None:
    events = [run.started(), *run.step(0, "eval", score=40.0)]
    state = fold([*events, run.ended(final_score=52.0, best_score=52.0)])
    assert (state.last_eval_score, state.best_score, state.final_score) == (40.0, 52.0, 52.0)


def test_budgets_used_count_steps_evals_and_time_since_the_start(run: Run) -> None:
    events = [run.started(), *run.step(0), *run.step(1, "eval", score=1.0), run.action(2)]
    state = fold(events)
    # Six events one second apart: the last is five seconds after the start.
    assert state.used == BudgetUsage(steps=3, evals=1, elapsed_seconds=5.0)


def test_redelivered_events_change_nothing(run: Run) -> None:
    events = [run.started(), *run.step(0), run.guidance(), run.ended()]
    state = fold(events)
    assert fold(events + events) == state
    assert all(apply(state, event) is state for event in events)


def test_events_of_other_trajectories_and_other_topics_are_ignored(run: Run) -> None:
    other = Run()
    verdict = run.event(
        pb.ActionJudged(action_id="a", ruleset_version="r", verdict=pb.VERDICT_MASK)
    )
    mine = [run.started(), *run.step(0)]
    state = fold([mine[0], other.started(), *other.step(0), *mine[1:], verdict, other.ended()])
    assert state == fold(mine)
    assert fold([other.started(), *mine], trajectory_id=run.trajectory_id) == fold(mine)


# --- properties over arbitrary histories -------------------------------------------------

OPERATIONS = ("act", "observe", "stray", "guide", "request", "summarize", "cancel", "end")


def history(operations: Sequence[tuple[str, int]]) -> tuple[Run, list[pb.Event]]:
    """A plausible trajectory log built from (operation, target) pairs."""
    run = Run()
    events = [run.started()]
    actions, guidance, requests = [], [], []
    for operation, target in operations:
        if operation == "act":
            delivered = [g.event_id for g in guidance[target % 3 :: 2]]
            actions.append(run.action(len(actions), ("eval", "edit_file")[target % 2], delivered))
            events.append(actions[-1])
        elif operation == "observe" and actions:
            events.append(run.observation(actions[target % len(actions)], score=float(target)))
        elif operation == "stray":
            events.append(run.observation(run.action(target)))
        elif operation == "guide":
            guidance.append(run.guidance(flagged=[target]))
            events.append(guidance[-1])
        elif operation == "request":
            requests.append(run.summary_requested(target))
            events.append(requests[-1])
        elif operation == "summarize" and requests:
            events.append(run.summarized(requests[target % len(requests)]))
        elif operation == "cancel":
            events.append(run.cancelled())
        elif operation == "end":
            events.append(run.ended(pb.EndReason.Value(pb.EndReason.keys()[target % 6])))
    return run, events


histories = st.lists(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 30)), max_size=40).map(
    history
)


@settings(deadline=None)
@given(histories, st.data())
def test_folding_a_prefix_then_applying_the_rest_equals_folding_everything(
    built: tuple[Run, list[pb.Event]], data: st.DataObject
) -> None:
    _, events = built
    cut = data.draw(st.integers(0, len(events)))
    state = fold(events[:cut])
    for event in events[cut:]:
        state = apply(state, event)
    assert state == fold(events)


@settings(deadline=None)
@given(histories, st.data())
def test_redelivering_any_events_anywhere_later_never_changes_the_state(
    built: tuple[Run, list[pb.Event]], data: st.DataObject
) -> None:
    _, events = built
    redelivered = list(events)
    for _ in range(data.draw(st.integers(1, 5))):
        original = data.draw(st.integers(0, len(events) - 1))
        at = data.draw(st.integers(redelivered.index(events[original]) + 1, len(redelivered)))
        copy = pb.Event()
        copy.CopyFrom(events[original])
        redelivered.insert(at, copy)
    assert fold(redelivered) == fold(events)


@settings(deadline=None)
@given(histories, histories)
def test_interleaving_another_trajectory_never_changes_the_state(
    built: tuple[Run, list[pb.Event]], other: tuple[Run, list[pb.Event]]
) -> None:
    (run, events), (_, foreign) = built, other
    mixed = [event for pair in zip(events, foreign, strict=False) for event in pair]
    mixed += events[len(foreign) :] + foreign[len(events) :]
    assert fold(mixed) == fold(events)
    assert fold(foreign + events, trajectory_id=run.trajectory_id) == fold(events)


@settings(deadline=None)
@given(histories)
def test_guidance_is_either_pending_or_delivered_and_every_step_pairs_its_own_action(
    built: tuple[Run, list[pb.Event]],
) -> None:
    _, events = built
    state = fold(events)
    delivered = state.delivered_guidance_ids
    assert len(set(delivered)) == len(delivered)
    assert not {g.event_id for g in state.pending_guidance} & set(delivered)
    assert len(state.steps) == sum(e.HasField("action_proposed") for e in events)
    for step in state.steps:
        if step.observation is not None:
            assert step.observation.observation_recorded.action_id == step.action_id
    assert state.used.evals == sum(
        e.observation_recorded.tool_name == "eval"
        for e in events
        if e.HasField("observation_recorded")
    )


def _as_tuples(state: Trajectory) -> dict[str, object]:
    """Every field of a state: sequences as tuples (iterated and indexed), event ids as a set."""
    fields = {name: getattr(state, name) for name in Trajectory.__dataclass_fields__}
    for name, value in fields.items():
        if isinstance(value, Sequence):
            fields[name] = (tuple(value), tuple(value[n] for n in range(-len(value), 0)))
    fields["event_ids"] = frozenset(state.event_ids)
    del fields["folding"]
    return fields


@settings(deadline=None)
@given(histories, st.data())
def test_every_state_a_tracker_handed_out_stays_the_fold_of_its_prefix(
    built: tuple[Run, list[pb.Event]], data: st.DataObject
) -> None:
    _, events = built
    # Any order, so observations may come before their actions and guidance after delivery.
    events = data.draw(st.permutations(events))
    tracker = TrajectoryTracker()
    handed_out = [(n + 1, tracker.apply(event)) for n, event in enumerate(events)]
    for length, state in handed_out:
        assert _as_tuples(state) == _as_tuples(fold(events[:length]))


@settings(deadline=None)
@given(histories, st.data())
def test_applying_events_to_an_older_state_leaves_the_newer_ones_as_they_were(
    built: tuple[Run, list[pb.Event]], data: st.DataObject
) -> None:
    _, events = built
    cut = data.draw(st.integers(0, len(events)))
    older = fold(events[:cut])
    newest = older
    for event in events[cut:]:
        newest = apply(newest, event)
    branch = older
    for event in data.draw(st.permutations(events[cut:])):
        branch = apply(branch, event)
    assert _as_tuples(newest) == _as_tuples(fold(events))
    assert _as_tuples(older) == _as_tuples(fold(events[:cut]))
