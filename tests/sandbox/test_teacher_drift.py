"""The simulated teacher's loud mistakes, run in a real sandbox, raise the gateway's drift
signals (so the simulated annotator steps in); its quiet ones need not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sandbox_actions import action

from apollo.v1 import events_pb2 as pb
from services.eventlog.blobs import InMemoryBlobStore
from services.gateway.drift import DriftRules, attention_reasons
from services.sandbox.actions import run_action
from services.tasks.packs import TaskCatalog
from services.tasks.starting import started_event
from services.tasks.teacher import TeacherConfig, deviations, teacher_calls
from services.tasks.teacher_mistakes import Mistake
from services.trajectory import fold

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TASK = "data-filtering-dedup"


async def unguided(open_runtime, mistake: Mistake, steps: int) -> list[tuple[pb.Event, list[str]]]:
    """Run a teacher that makes only `mistake`, without guidance: the log, and the drift
    reasons after each step."""
    config = TeacherConfig(rate=1.0, mistakes=frozenset({mistake}))
    started = started_event(
        TaskCatalog().get(TASK),
        "teacher:simulated",
        started_by="test",
        service="test",
        labels=config.labels(),
    )
    trajectory_id = started.trajectory_id
    runtime = await open_runtime(trajectory_id, task=TASK)
    events, reasons = [started], []
    for step in range(steps):
        made = teacher_calls(fold(events, trajectory_id))[-1]
        proposed = action(trajectory_id, step, made.call.tool, **made.call.arguments)
        events += [proposed, *await run_action(proposed, runtime, InMemoryBlobStore())]
        state = fold(events, trajectory_id)
        reasons.append(attention_reasons(state, datetime.now(UTC), DriftRules()))
        if state.is_over:
            break
    return events, reasons


@pytest.mark.parametrize(
    "mistake",
    [Mistake.WRONG_PATH, Mistake.POLLING_LOOP, Mistake.EVAL_WITHOUT_CHANGE, Mistake.BROKEN_EDIT],
)
async def test_a_loud_mistake_raises_a_drift_signal_within_a_few_steps(
    open_runtime, mistake: Mistake
) -> None:
    events, reasons = await unguided(open_runtime, mistake, steps=10)
    first_deviation = min(deviations(fold(events, events[0].trajectory_id)))
    flagged = [step for step, found in enumerate(reasons) if found]
    assert flagged, f"{mistake} raised no drift signal"
    # Flagged by three failing or identical calls in a row, at most three steps in.
    assert first_deviation <= flagged[0] <= first_deviation + 3


@pytest.mark.parametrize("mistake", [Mistake.WRONG_COMPUTATION, Mistake.GIVE_UP])
async def test_a_quiet_mistake_runs_to_the_end_unflagged_and_scores_less(
    open_runtime, mistake: Mistake
) -> None:
    events, reasons = await unguided(open_runtime, mistake, steps=12)
    state = fold(events, events[0].trajectory_id)
    assert state.is_over
    assert not any(reasons)
    assert all(step.observation.observation_recorded.success for step in state.steps)
    assert mistake in deviations(state).values()
    if mistake is Mistake.WRONG_COMPUTATION:
        # The reference scores at least 70 here; computing the wrong thing does not.
        assert state.final_score < 70
