"""Evaluation runs: derived ids, the checkpoint's policy spec, labels, scores, no guidance."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InMemoryArchive
from services.eventlog.events import new_event
from services.eventlog.memory_bus import InMemoryBus
from services.eventlog.topics import TRAINING, TRAJECTORIES, key_for, topic_for
from services.eventlog.validation import validate
from services.gateway.control import Control, GuidanceRequest, InvalidGuidance
from services.gateway.drift import DriftRules, attention_reasons
from services.gateway.live import LiveLog
from services.tasks.packs import TaskCatalog
from services.tasks.starting import started_event
from services.trainer.evaluation import (
    UNTRAINED,
    EvaluatedCheckpoint,
    EvaluationRun,
    UnknownCheckpoint,
    checkpoint_policy,
    evaluated_checkpoint,
    evaluation_labels,
    plan_runs,
    scored_event,
    seeded,
)
from services.trajectory import Trajectory, fold

pytestmark = pytest.mark.timeout(30)

ARTIFACTS = Path("/srv/artifacts")
TASK = TaskCatalog().ids()[0]


def saved(uri: str = "checkpoints/ck-1") -> pb.Event:
    body = pb.CheckpointSaved(checkpoint_id="ck-1", dataset_id="ds-1", base_model="local", uri=uri)
    at = Timestamp()
    at.FromDatetime(datetime(2026, 3, 2, tzinfo=UTC))
    return new_event(body, trajectory_id="", service="trainer", occurred_at=at)


def checkpoint() -> EvaluatedCheckpoint:
    return evaluated_checkpoint("ck-1", saved(), ARTIFACTS)


def test_a_relative_uri_lies_under_the_artifacts_root_an_absolute_one_stands() -> None:
    assert checkpoint_policy(saved().checkpoint_saved, ARTIFACTS) == (
        "local:/srv/artifacts/checkpoints/ck-1"
    )
    assert checkpoint_policy(saved("/models/ck").checkpoint_saved, ARTIFACTS) == "local:/models/ck"


def test_a_served_checkpoint_runs_as_its_policy_spec() -> None:
    served = evaluated_checkpoint("ck-1", saved(), ARTIFACTS, served_as="openai:ck-1")
    assert served.policy == "openai:ck-1"


def test_the_untrained_baseline_is_the_base_local_model() -> None:
    baseline = evaluated_checkpoint(UNTRAINED, None, ARTIFACTS)
    assert (baseline.checkpoint_id, baseline.policy) == (UNTRAINED, "local")


def test_an_unknown_checkpoint_says_how_to_get_one() -> None:
    with pytest.raises(UnknownCheckpoint, match="apollo train"):
        evaluated_checkpoint("ck-missing", None, ARTIFACTS)


def test_run_ids_are_the_same_on_a_rerun_and_differ_between_runs() -> None:
    first = plan_runs(checkpoint(), [TASK, "other"], seeds=[1000, 1001])
    again = plan_runs(checkpoint(), [TASK, "other"], seeds=[1000, 1001])
    planned = [(TASK, 1000), (TASK, 1001), ("other", 1000), ("other", 1001)]
    assert [(r.task_id, r.seed) for r in first] == planned
    assert [r.scored_event_id for r in first] == [r.scored_event_id for r in again]
    ids = {i for r in first for i in (r.trajectory_id, r.started_event_id, r.scored_event_id)}
    assert len(ids) == 12
    assert all(uuid.UUID(i).version == 7 for i in ids)


def test_the_started_event_carries_the_runs_ids_seed_and_evaluation_labels() -> None:
    run = plan_runs(checkpoint(), [TASK], seeds=[1000, 1001])[1]
    labels = evaluation_labels("ck-1", "human+filter")
    started = seeded(
        started_event(
            TaskCatalog().get(TASK), "local", started_by="cli", service="cli", labels=labels
        ),
        run,
    )
    validate(started)
    assert (started.event_id, started.trajectory_id) == (run.started_event_id, run.trajectory_id)
    assert started.trajectory_started.task_seed == 1001
    assert started.trajectory_started.policy.sampling.seed == 1001
    assert dict(started.trajectory_started.labels) == {
        "evaluation": "true",
        "checkpoint": "ck-1",
        "variant": "human+filter",
    }


def _ended_run(
    final: float | None, best: float | None
) -> tuple[EvaluationRun, Trajectory, pb.Event]:
    run = plan_runs(checkpoint(), [TASK], seeds=[1000])[0]
    tid = run.trajectory_id
    started = new_event(pb.TrajectoryStarted(task_id=TASK), trajectory_id=tid, service="t")
    body = pb.TrajectoryEnded(reason=pb.END_REASON_STEP_BUDGET)
    if final is not None:
        body.final_score = final
    if best is not None:
        body.best_score = best
    ended = new_event(body, trajectory_id=run.trajectory_id, service="t")
    return run, fold([started, ended], run.trajectory_id), ended


def test_the_score_event_is_a_training_fact_caused_by_the_end() -> None:
    run, state, ended = _ended_run(40.0, 55.0)
    event = scored_event(run, state, "human+filter")
    validate(event)
    assert topic_for(event) is TRAINING
    assert event.trajectory_id == ""
    assert key_for(event) == event.event_id.encode()
    assert (event.event_id, event.causation_id) == (run.scored_event_id, ended.event_id)
    body = event.evaluation_scored
    assert (body.checkpoint_id, body.task_id, body.evaluation_trajectory_id) == (
        "ck-1",
        TASK,
        run.trajectory_id,
    )
    assert (body.final_score, body.best_score, body.variant) == (40.0, 55.0, "human+filter")


def test_a_run_that_ends_without_a_score_scores_zero() -> None:
    run, state, _ = _ended_run(None, None)
    body = scored_event(run, state, "").evaluation_scored
    assert (body.final_score, body.best_score) == (0.0, 0.0)


def _evaluation_run() -> list[pb.Event]:
    labels = evaluation_labels("ck-1", "")
    started = started_event(
        TaskCatalog().get(TASK), "local", started_by="cli", service="cli", labels=labels
    )
    tid = started.trajectory_id
    failing = []
    for index in range(3):
        call = pb.ToolCall(call_id=f"c{index}", name="run_command", arguments_json="{}")
        action = new_event(
            pb.ActionProposed(step_index=index, tool_call=call, prompt_digest="sha256:00"),
            trajectory_id=tid,
            service="t",
        )
        observed = pb.ObservationRecorded(action_id=action.event_id, step_index=index)
        failing += [action, new_event(observed, trajectory_id=tid, service="t")]
    return [started, *failing]


def test_drift_never_calls_an_annotator_to_an_evaluation_run() -> None:
    state = fold(_evaluation_run())
    assert attention_reasons(state, datetime.now(UTC), DriftRules()) == []


async def test_the_gateway_refuses_guidance_to_an_evaluation_run() -> None:
    events = _evaluation_run()
    archive = InMemoryArchive()
    await archive.append([(TRAJECTORIES.name, event) for event in events])
    control = Control(InMemoryBus(), LiveLog(archive, DriftRules()), TaskCatalog())
    request = GuidanceRequest(events[0].trajectory_id, "ann", "try X", "advice", (), "http")
    with pytest.raises(InvalidGuidance, match="takes no guidance"):
        await control.submit_guidance(request)
