"""`apollo eval` on the embedded stack: an unguided run scored once, its table, its lineage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apollo.v1 import events_pb2 as pb
from services.cli.samples import SAMPLE_TRAJECTORY
from services.eventlog.events import new_event
from services.eventlog.jsonl import to_json_line
from tests.e2e.apollo_cli import apollo

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

HELD_OUT_TASK = "data-filtering-dedup"
CHECKPOINT = "ck-e2e"


def training_file(tmp_path: Path, trajectory_id: str) -> Path:
    """A DatasetBuilt of the sample trajectory and a CheckpointSaved trained on it."""
    built = pb.DatasetBuilt(dataset_id="ds-e2e", ruleset_version="rs-e2e", format="trl")
    built.trajectory_ids.append(trajectory_id)
    saved = pb.CheckpointSaved(
        checkpoint_id=CHECKPOINT, dataset_id="ds-e2e", base_model="local", uri="checkpoints/ck"
    )
    events = [new_event(body, trajectory_id="", service="trainer") for body in (built, saved)]
    path = tmp_path / "training.jsonl"
    path.write_text("".join(to_json_line(event) + "\n" for event in events))
    return path


def evaluate(stack: Path) -> dict:
    # The checkpoint runs as served by the scripted reference policy: fast, and it scores.
    args = ("--checkpoint", CHECKPOINT, "--tasks", HELD_OUT_TASK, "--policy", "scripted:reference")
    return json.loads(apollo(stack, "eval", *args, "--variant", "human+filter", "--json").stdout)


def test_a_checkpoint_is_evaluated_once_reported_and_traced(stack: Path, tmp_path: Path) -> None:
    sample = json.loads(SAMPLE_TRAJECTORY.read_text().splitlines()[0])
    apollo(stack, "import", str(SAMPLE_TRAJECTORY))
    training = training_file(tmp_path, sample["trajectory_id"])
    imported = json.loads(apollo(stack, "import", str(training), "--json").stdout)
    assert imported["added"] == 2

    first = evaluate(stack)
    assert first["scored"] == 1
    [row] = first["report"]
    assert (row["checkpoint_id"], row["variant"], row["task_id"], row["runs"]) == (
        CHECKPOINT,
        "human+filter",
        HELD_OUT_TASK,
        1,
    )
    assert row["final_mean"] >= 70
    assert row["best_mean"] >= row["final_mean"]

    again = evaluate(stack)
    assert again["scored"] == 0
    assert again["report"] == first["report"]

    report = json.loads(apollo(stack, "eval", "report", "--format", "json").stdout)
    assert report == first["report"]
    table = apollo(stack, "eval", "report", "--checkpoint", CHECKPOINT).stdout
    assert f"| {CHECKPOINT} | human+filter | {HELD_OUT_TASK} | 1 |" in table

    traced = json.loads(apollo(stack, "lineage", CHECKPOINT, "--json").stdout)
    assert traced["dataset"]["ruleset_version"] == "rs-e2e"
    [origin] = traced["trajectories"]
    assert origin["task_id"] == sample["trajectory_started"]["task_id"]
    assert origin["guidance_count"] == 1
    [evaluation] = traced["evaluations"]
    assert evaluation["final_score"] == row["final_mean"]
    assert "ruleset rs-e2e" in apollo(stack, "lineage", CHECKPOINT).stdout

    # The run was labelled an evaluation and nobody guided it.
    run = evaluation["evaluation_trajectory_id"]
    events = [json.loads(line) for line in apollo(stack, "export", run).stdout.splitlines()]
    labels = events[0]["trajectory_started"]["labels"]
    assert labels == {"evaluation": "true", "checkpoint": CHECKPOINT, "variant": "human+filter"}
    assert not any("guidance_submitted" in event for event in events)
