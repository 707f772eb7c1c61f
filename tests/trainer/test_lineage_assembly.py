"""A checkpoint's lineage assembled from the training facts and the trajectory read model."""

from __future__ import annotations

import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InMemoryArchive
from services.eventlog.events import new_event
from services.eventlog.topics import topic_for
from services.trainer.evaluation import UnknownCheckpoint
from services.trainer.evaluation_archive import TrainingFacts, training_facts
from services.trainer.lineage import assemble_lineage, lineage_of

pytestmark = pytest.mark.timeout(10)


GUIDANCE = pb.GuidanceSubmitted(annotator="ann", text="hint")


def fact(body) -> pb.Event:
    return new_event(body, trajectory_id="", service="trainer")


def trajectory(task: str, guidance: int) -> list[pb.Event]:
    started = new_event(pb.TrajectoryStarted(task_id=task), trajectory_id="", service="t")
    started.trajectory_id = started.event_id
    tid = started.trajectory_id
    notes = [
        new_event(
            pb.GuidanceSubmitted(annotator="ann", text="hint"), trajectory_id=tid, service="g"
        )
        for _ in range(guidance)
    ]
    return [started, *notes]


def training(trajectory_ids: list[str]) -> list[pb.Event]:
    built = pb.DatasetBuilt(
        dataset_id="ds-1", ruleset_version="rs-7", trajectory_ids=trajectory_ids
    )
    saved = pb.CheckpointSaved(checkpoint_id="ck-1", dataset_id="ds-1", base_model="local")
    scores = [
        pb.EvaluationScored(checkpoint_id="ck-1", task_id="t", final_score=30.0, variant="v"),
        pb.EvaluationScored(checkpoint_id="ck-other", task_id="t", final_score=90.0),
    ]
    return [fact(built), fact(saved), *(fact(score) for score in scores)]


async def test_the_lineage_goes_from_checkpoint_to_dataset_ruleset_trajectories_evaluations():
    runs = [trajectory("task-a", guidance=2), trajectory("task-b", guidance=0)]
    ids = [run[0].trajectory_id for run in runs]
    archive = InMemoryArchive()
    events = [*runs[0], *runs[1], *training([*ids, "not-archived"])]
    await archive.append([(topic_for(event).name, event) for event in events])

    traced = await lineage_of(archive, await training_facts(archive), "ck-1")

    assert traced.dataset.ruleset_version == "rs-7"
    origins = [
        (o.trajectory_id, o.row and (o.row.task_id, o.row.guidance_count))
        for o in traced.trajectories
    ]
    assert origins == [(ids[0], ("task-a", 2)), (ids[1], ("task-b", 0)), ("not-archived", None)]
    assert [(e.checkpoint_id, e.variant) for e in traced.evaluations] == [("ck-1", "v")]
    document = traced.as_json()
    assert document["checkpoint"]["dataset_id"] == "ds-1"
    assert document["trajectories"][2] == {"trajectory_id": "not-archived", "archived": False}
    assert document["evaluations"][0]["final_score"] == 30.0


def test_a_checkpoint_whose_dataset_is_missing_still_has_a_lineage() -> None:
    saved = pb.CheckpointSaved(checkpoint_id="ck-1", dataset_id="ds-gone")
    traced = assemble_lineage(TrainingFacts.of([fact(saved)]), "ck-1", {})
    assert traced.dataset is None
    assert traced.trajectories == ()
    assert traced.as_json()["dataset"] is None


def test_the_first_checkpoint_saved_of_an_id_wins() -> None:
    first = fact(pb.CheckpointSaved(checkpoint_id="ck-1", uri="a"))
    second = fact(pb.CheckpointSaved(checkpoint_id="ck-1", uri="b"))
    assert TrainingFacts.of([first, second]).checkpoints["ck-1"] is first


def test_an_unknown_checkpoint_is_a_clear_error() -> None:
    with pytest.raises(UnknownCheckpoint, match="ck-9"):
        assemble_lineage(TrainingFacts(), "ck-9", {})
