"""The processed-events contract, run against every ProcessedEvents implementation."""

from __future__ import annotations

import pytest

from services.eventlog.events import new_event_id
from services.eventlog.pg_processed import PgProcessedEvents

pytestmark = pytest.mark.timeout(60)


async def test_an_event_is_unseen_until_marked(processed) -> None:
    event_id = new_event_id()

    assert not await processed.seen("judge", event_id)
    await processed.mark("judge", event_id)
    assert await processed.seen("judge", event_id)


async def test_marking_twice_is_harmless(processed) -> None:
    event_id = new_event_id()

    await processed.mark("judge", event_id)
    await processed.mark("judge", event_id)

    assert await processed.seen("judge", event_id)


async def test_each_consumer_keeps_its_own_record(processed) -> None:
    event_id = new_event_id()

    await processed.mark("judge", event_id)

    assert not await processed.seen("sandbox", event_id)


async def test_marking_one_event_leaves_others_unseen(processed) -> None:
    handled, other = new_event_id(), new_event_id()

    await processed.mark("judge", handled)

    assert not await processed.seen("judge", other)


@pytest.mark.integration
async def test_the_postgres_record_survives_a_restart(pg_dsn) -> None:
    event_id = new_event_id()
    before = await PgProcessedEvents.connect(pg_dsn)
    await before.migrate()
    await before.mark("judge", event_id)
    await before.close()

    after = await PgProcessedEvents.connect(pg_dsn)
    try:
        assert await after.seen("judge", event_id)
    finally:
        await after.close()
