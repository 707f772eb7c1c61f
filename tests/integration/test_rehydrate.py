"""Rehydrate republishes the archive, in order, into an empty broker, and only an empty one."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer

from apollo.v1 import events_pb2 as pb
from services.cli.stack.broker import TansuBroker
from services.eventlog.admin import ensure_topics
from services.eventlog.events import new_event
from services.eventlog.pg_archive import PgArchive
from services.eventlog.rehydrate import BrokerNotEmpty, rehydrate
from services.eventlog.topics import TRAJECTORIES, VERDICTS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def read_all(bootstrap: str, topic: str, count: int) -> list:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        messages = []
        while len(messages) < count:
            batches = await consumer.getmany(timeout_ms=2000)
            assert batches, f"only {len(messages)} of {count} messages on {topic}"
            messages += [m for records in batches.values() for m in records]
        return messages
    finally:
        await consumer.stop()


async def test_rehydrate_republishes_in_archive_order(broker: TansuBroker, pg_dsn: str) -> None:
    archive = await PgArchive.connect(pg_dsn)
    await archive.migrate()
    log_events = [
        new_event(
            pb.GuidanceSubmitted(annotator="a", text=str(i)), trajectory_id=f"r{i % 3}", service="t"
        )
        for i in range(2500)
    ]
    verdict = new_event(
        pb.ActionJudged(action_id="x", ruleset_version="r", verdict=pb.VERDICT_KEEP),
        trajectory_id="r0",
        service="judge",
    )
    await archive.append([(TRAJECTORIES.name, e) for e in log_events])
    await archive.append([(VERDICTS.name, verdict)])
    await ensure_topics(broker.address)

    offsets = await rehydrate(archive, broker.address)

    assert offsets[(TRAJECTORIES.name, 0)] == len(log_events)
    assert offsets[(VERDICTS.name, 0)] == 1
    republished = await read_all(broker.address, TRAJECTORIES.name, len(log_events))
    assert [pb.Event.FromString(m.value).event_id for m in republished] == [
        e.event_id for e in log_events
    ]
    assert [m.key for m in republished] == [e.trajectory_id.encode() for e in log_events]

    with pytest.raises(BrokerNotEmpty):
        await rehydrate(archive, broker.address)
    await archive.close()
