"""Annotators label steps keep or mask through the API: StepLabeled on the log, counted,
and no prompt of the labelled trajectory changes."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from apollo.v1 import events_pb2 as pb
from services.cli.samples import SAMPLE_TRAJECTORY
from services.eventlog.jsonl import from_json_line
from services.policy.handlers import ROUTES as POLICY_ROUTES
from services.summarizer.handlers import ROUTES as SUMMARIZER_ROUTES
from services.trajectory import fold
from services.trajectory.digest_check import check_digests
from services.trajectory.prompt import render_next_prompt

pytestmark = pytest.mark.timeout(30)


def labels_counted(label: str) -> float:
    value = REGISTRY.get_sample_value("apollo_gateway_step_labels_total", {"label": label})
    return value or 0.0


async def test_a_label_publishes_step_labeled_about_the_steps_newest_action(wired, new_run) -> None:
    run = new_run()
    run.started()
    run.step()
    run.step(success=False)
    retried, _ = run.step()
    retried.action_proposed.step_index = 1  # the same step again, as a retry records it
    run.ended()  # an ended run can be labelled: that is where the judge is calibrated
    await wired.record(run.events)
    before = labels_counted("mask")
    async with wired.client("annotator") as client:
        reply = await client.post(
            f"/api/trajectories/{run.trajectory_id}/labels",
            json={"step_index": 1, "label": "mask", "note": "polls <again>"},
        )
    assert reply.status_code == 202
    [event] = wired.published()
    assert event.event_id == reply.json()["event_id"]
    assert event.step_labeled == pb.StepLabeled(
        action_id=retried.event_id,
        step_index=1,
        label=pb.STEP_LABEL_MASK,
        annotator="annotator-1",
        note="polls <again>",
    )
    assert labels_counted("mask") == before + 1


@pytest.mark.parametrize(
    ("trajectory", "body", "status"),
    [
        ("known", {"step_index": 5, "label": "keep"}, 404),
        ("nope", {"step_index": 0, "label": "keep"}, 404),
        ("known", {"step_index": 0, "label": "maybe"}, 422),
        ("known", {"step_index": -1, "label": "keep"}, 422),
        ("known", {"step_index": 0, "label": "keep", "note": "x" * 2001}, 422),
    ],
)
async def test_a_label_of_no_action_or_a_bad_label_is_refused(
    wired, new_run, trajectory: str, body: dict, status: int
) -> None:
    run = new_run()
    run.started()
    run.step()
    await wired.record(run.events)
    tid = run.trajectory_id if trajectory == "known" else trajectory
    async with wired.client("annotator") as client:
        reply = await client.post(f"/api/trajectories/{tid}/labels", json=body)
    assert reply.status_code == status
    assert reply.json()["detail"]
    assert wired.published() == []


async def test_labels_change_no_prompt_of_the_trajectory(wired) -> None:
    sample = [from_json_line(line) for line in SAMPLE_TRAJECTORY.read_text().splitlines()]
    # The sample was written with a template this build does not ship; render with its own.
    sample[0].trajectory_started.prompt_template_version = "v1"
    tid = sample[0].trajectory_id
    await wired.record(sample)
    state = fold(sample, tid)
    async with wired.client("annotator") as client:
        for step in state.steps:
            label = "mask" if step.index % 2 else "keep"
            body = {"step_index": step.index, "label": label}
            reply = await client.post(f"/api/trajectories/{tid}/labels", json=body)
            assert reply.status_code == 202
    labels = wired.published()
    assert len(labels) == len(state.steps)
    # Each label right after the action it is about, as if given while the run went on.
    label_of = {label.step_labeled.action_id: label for label in labels}
    interleaved = [e for event in sample for e in (event, label_of.get(event.event_id)) if e]
    before = check_digests(state)
    assert all(check.rendered and not check.error for check in before)
    assert check_digests(fold(interleaved, tid)) == before
    assert check_digests(fold([*sample, *labels], tid)) == before
    assert render_next_prompt(fold(interleaved, tid)) == render_next_prompt(state)
    # The policy and the summarizer render prompts; neither routes a label to its fold.
    assert "step_labeled" not in POLICY_ROUTES.kinds | SUMMARIZER_ROUTES.kinds
