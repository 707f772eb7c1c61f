"""How fast humans answer attention flags, and whose attention time it is, as metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from services.eventlog.archive import InMemoryArchive
from services.eventlog.topics import TRAJECTORIES
from services.gateway.drift import DriftRules
from services.gateway.live import LiveLog
from tests.gateway.conftest import T0

pytestmark = pytest.mark.timeout(30)

RESPONSE = "apollo_gateway_attention_response_seconds"


def failing(run, steps: int = 3) -> None:
    for n in range(steps):
        run.step(args={"command": f"try {n}"}, success=False, observed={"error_message": "boom"})


async def test_a_flag_is_answered_once_by_the_first_guidance(new_run) -> None:
    now = [T0]
    archive = InMemoryArchive()
    live = LiveLog(archive, DriftRules(), clock=lambda: now[0])
    run = new_run()
    run.started()
    await archive.append([(TRAJECTORIES.name, e) for e in run.events])
    await live.load_running()
    assert live.answer_flag(run.trajectory_id) is None  # not flagged: nothing to answer

    failing(run)
    for event in run.events[-6:]:
        await live.on_event(event)
    now[0] += timedelta(seconds=42)

    assert live.answer_flag(run.trajectory_id) == 42
    # Still flagged, but already answered: a second message is no response to the flag.
    assert live.answer_flag(run.trajectory_id) is None


async def test_a_flag_that_clears_and_returns_is_a_new_flag(new_run) -> None:
    now = [T0]
    archive = InMemoryArchive()
    live = LiveLog(archive, DriftRules(), clock=lambda: now[0])
    run = new_run()
    run.started()
    failing(run)
    await archive.append([(TRAJECTORIES.name, e) for e in run.events])
    await live.load_running()
    now[0] += timedelta(seconds=100)
    for event in run.step(args={"command": "fixed"}):  # the agent recovers by itself
        await live.on_event(event)
    assert live.answer_flag(run.trajectory_id) is None

    now[0] += timedelta(seconds=5)
    failing(run)
    for event in run.events[-6:]:
        await live.on_event(event)
    now[0] += timedelta(seconds=7)
    assert live.answer_flag(run.trajectory_id) == 7


async def test_guidance_on_a_flagged_trajectory_observes_the_response_time(wired, new_run) -> None:
    run = new_run()
    run.started()
    failing(run)
    await wired.record(run.events)
    await wired.gateway.live.load_running()
    before = REGISTRY.get_sample_value(f"{RESPONSE}_count") or 0.0
    url = f"/api/trajectories/{run.trajectory_id}/guidance"
    async with wired.client("annotator") as client:
        for text in ("stop retrying", "read the error"):
            reply = await client.post(url, json={"text": text, "kind": "correction"})
            assert reply.status_code == 202
    assert REGISTRY.get_sample_value(f"{RESPONSE}_count") == before + 1


async def test_attention_seconds_are_counted_by_annotator(wired, new_run) -> None:
    run = new_run()
    run.started()
    await wired.record(run.events)
    name, labels = "apollo_gateway_attention_seconds_total", {"annotator": "annotator-1"}
    before = REGISTRY.get_sample_value(name, labels) or 0.0
    url = f"/api/trajectories/{run.trajectory_id}/attention"
    async with wired.client("annotator") as client:
        for seconds in (5, 2.5):
            assert (await client.post(url, json={"seconds": seconds})).status_code == 204
    assert REGISTRY.get_sample_value(name, labels) == before + 7.5
