"""The verdicts of a trajectory through the API and the live stream: one ruleset version's
verdicts (the newest by default), and every version that judged it."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event
from services.eventlog.topics import VERDICTS
from tests.gateway.test_gateway_stream import messages, next_of

pytestmark = pytest.mark.timeout(30)
OLD, NEW = "sha256:" + "0a" * 32, "sha256:" + "0b" * 32


def judged(action: pb.Event, version: str, *reasons: pb.JudgeReason) -> pb.Event:
    """The judge's verdict on `action`: mask when a reason is given."""
    body = pb.ActionJudged(
        action_id=action.event_id,
        step_index=action.action_proposed.step_index,
        ruleset_version=version,
        verdict=pb.VERDICT_MASK if reasons else pb.VERDICT_KEEP,
        reasons=reasons,
    )
    return new_event(body, trajectory_id=action.trajectory_id, service="judge")


REPEAT = pb.JudgeReason(
    rule_id="repeated-call",
    detail="the same call 3 times with an unchanged observation",
    evidence_step_indices=[0, 1],
    quote="<b>ls</b>",
)


@pytest.fixture
async def judged_twice(wired, new_run):
    """A two-step run judged under OLD (nothing masked), then under NEW (step 1 masked)."""
    run = new_run()
    run.started()
    first, _ = run.step()
    second, _ = run.step()
    await wired.record(run.events)
    verdicts = [judged(first, OLD), judged(second, OLD), judged(first, NEW)]
    verdicts.append(judged(second, NEW, REPEAT))
    await wired.archive.append([(VERDICTS.name, event) for event in verdicts])
    return run, first, second


async def test_the_newest_ruleset_version_is_shown_with_readable_reasons(
    wired, judged_twice
) -> None:
    run, first, second = judged_twice
    async with wired.client("viewer") as client:
        reply = await client.get(f"/api/trajectories/{run.trajectory_id}/verdicts")
    assert reply.status_code == 200
    assert reply.json() == {
        "ruleset_version": NEW,
        "versions": [
            {"ruleset_version": NEW, "actions_judged": 2, "actions_masked": 1},
            {"ruleset_version": OLD, "actions_judged": 2, "actions_masked": 0},
        ],
        "verdicts": [
            {"action_id": first.event_id, "step_index": 0, "verdict": "keep", "reasons": []},
            {
                "action_id": second.event_id,
                "step_index": 1,
                "verdict": "mask",
                "reasons": [
                    {
                        "rule_id": "repeated-call",
                        "detail": "the same call 3 times with an unchanged observation",
                        "evidence_step_indices": [0, 1],
                        "quote": "<b>ls</b>",
                    }
                ],
            },
        ],
    }


async def test_an_older_version_can_be_chosen(wired, judged_twice) -> None:
    run, _, _ = judged_twice
    async with wired.client("viewer") as client:
        reply = await client.get(
            f"/api/trajectories/{run.trajectory_id}/verdicts", params={"ruleset": OLD}
        )
    body = reply.json()
    assert body["ruleset_version"] == OLD
    assert [v["verdict"] for v in body["verdicts"]] == ["keep", "keep"]


async def test_a_version_that_did_not_judge_it_or_an_unknown_trajectory_is_404(
    wired, judged_twice
) -> None:
    run, _, _ = judged_twice
    async with wired.client("viewer") as client:
        other = await client.get(
            f"/api/trajectories/{run.trajectory_id}/verdicts", params={"ruleset": "sha256:00"}
        )
        missing = await client.get("/api/trajectories/nope/verdicts")
    assert other.status_code == 404
    assert NEW in other.json()["detail"]
    assert OLD in other.json()["detail"]
    assert missing.status_code == 404


async def test_a_trajectory_nobody_judged_has_no_version(wired, new_run) -> None:
    run = new_run()
    run.started()
    run.step()
    await wired.record(run.events)
    async with wired.client("viewer") as client:
        reply = await client.get(f"/api/trajectories/{run.trajectory_id}/verdicts")
    assert reply.json() == {"ruleset_version": None, "versions": [], "verdicts": []}


async def test_a_live_verdict_reaches_the_trajectory_stream_but_not_the_list(
    wired, new_run, served
) -> None:
    run = new_run()
    run.started()
    action, _ = run.step()
    run.ended()
    await wired.record(run.events)
    headers = {"Authorization": f"Bearer {wired.tokens['viewer']}"}
    params = {"trajectory_id": run.trajectory_id}
    async with (
        httpx.AsyncClient(base_url=served, headers=headers, timeout=10) as client,
        client.stream("GET", "/api/stream", params=params) as one,
        client.stream("GET", "/api/stream") as every,
    ):
        one_stream, every_stream = messages(one), messages(every)
        await next_of(one_stream, "presence")
        await next_of(every_stream, "presence")
        verdict = judged(action, NEW, REPEAT)
        await wired.bus.publish(verdict)
        started = new_run().started()
        await wired.bus.publish(started)
        seen = json.loads(await asyncio.wait_for(next_of(one_stream, "apollo"), 5))
        listed = json.loads(await asyncio.wait_for(next_of(every_stream, "apollo"), 5))
    assert seen["event_id"] == verdict.event_id
    assert seen["action_judged"]["reasons"][0]["rule_id"] == "repeated-call"
    assert listed["event_id"] == started.event_id
