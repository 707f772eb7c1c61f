"""Following a trajectory live: its whole log first, then new events, each once."""

from __future__ import annotations

import asyncio

import pytest

from apollo.v1 import events_pb2 as pb
from services.cli.stack.broker import TansuBroker
from services.eventlog.admin import ensure_topics
from services.eventlog.bus import KafkaBus
from services.eventlog.events import new_event
from services.eventlog.tail import tail_trajectory
from services.eventlog.topics import TRAJECTORIES

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def guidance(trajectory_id: str, text: str) -> pb.Event:
    body = pb.GuidanceSubmitted(annotator="alice", text=text)
    return new_event(body, trajectory_id=trajectory_id, service="test")


async def wait_for(seen: list, count: int) -> None:
    async with asyncio.timeout(20):
        while len(seen) < count:
            await asyncio.sleep(0.01)


async def test_tail_replays_then_follows_only_its_trajectory(broker: TansuBroker) -> None:
    await ensure_topics(broker.address)
    mine = [guidance("tail-mine", f"old {i}") for i in range(3)]
    theirs = [guidance("tail-theirs", "not mine")]
    seen: list[pb.Event] = []
    async with KafkaBus(broker.address, client_id="test") as bus:
        await bus.publish_many([mine[0], *theirs, mine[1], mine[2]])
        await bus.publish_raw(TRAJECTORIES.name, b"tail-mine", b"\x00not an event")
        tail = asyncio.create_task(tail_trajectory(broker.address, "tail-mine", seen.append))
        try:
            await wait_for(seen, 3)
            live = guidance("tail-mine", "new")
            await bus.publish(live)
            await bus.publish(live)  # a redelivery is shown once
            await wait_for(seen, 4)
            await asyncio.sleep(0.3)
        finally:
            tail.cancel()
    assert [e.event_id for e in seen] == [e.event_id for e in [*mine, live]]
