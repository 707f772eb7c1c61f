"""What only the Postgres archive can show: real transactions, concurrency and restarts."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import TRAJECTORIES

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

GROUP = "recorder"
LOG = TRAJECTORIES.name


@pytest.fixture
async def pg_archive(pg_dsn: str):
    """A migrated PgArchive on a fresh database."""
    archive = await PgArchive.connect(pg_dsn)
    await archive.migrate()
    yield archive
    await archive.close()


async def test_a_failure_after_the_events_are_written_rolls_everything_back(
    pg_archive, pg_dsn, new_log
) -> None:
    # The offsets upsert runs after the events and the read model inside the one
    # transaction; make it fail there to prove nothing before it survives.
    admin = await asyncpg.connect(pg_dsn)
    try:
        await admin.execute("""
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN RAISE EXCEPTION 'offsets refused'; END $$;
            CREATE TRIGGER refuse BEFORE INSERT ON consumer_offsets
                FOR EACH ROW EXECUTE FUNCTION refuse();
        """)
    finally:
        await admin.close()
    log = new_log()

    with pytest.raises(asyncpg.RaiseError, match="offsets refused"):
        await pg_archive.append([(LOG, log.started()), (LOG, log.action(0))], {(GROUP, LOG, 0): 2})

    assert await pg_archive.count() == 0
    assert await pg_archive.trajectory(log.trajectory_id) is None
    assert await pg_archive.load_offsets(GROUP) == {}


async def test_concurrent_appends_never_interleave_positions(pg_dsn, new_log) -> None:
    archive = await PgArchive.connect(pg_dsn, max_size=6)
    try:
        await archive.migrate()
        logs = [new_log() for _ in range(6)]
        batches = [[(LOG, log.action(step)) for step in range(40)] for log in logs]

        added = await asyncio.gather(*(archive.append(batch) for batch in batches))

        assert added == [40] * 6
        for log in logs:
            positions = [record.position for record in await archive.events(log.trajectory_id)]
            assert positions == list(range(positions[0], positions[0] + 40))
    finally:
        await archive.close()


async def test_migrate_is_safe_to_run_concurrently_and_again(pg_dsn) -> None:
    archives = [await PgArchive.connect(pg_dsn) for _ in range(3)]
    try:
        await asyncio.gather(*(archive.migrate() for archive in archives))
        await archives[0].migrate()
        assert await archives[0].count() == 0
    finally:
        for archive in archives:
            await archive.close()


async def test_a_reopened_archive_has_everything_and_resumes_offsets(pg_dsn, new_log) -> None:
    log = new_log()
    first = await PgArchive.connect(pg_dsn)
    await first.migrate()
    await first.append([(LOG, log.started()), (LOG, log.ended(pb.END_REASON_FINISHED, 7.0))],
                       {(GROUP, LOG, 0): 2})  # fmt: skip
    await first.close()

    reopened = await PgArchive.connect(pg_dsn)
    try:
        await reopened.migrate()
        assert await reopened.count() == 2
        assert await reopened.load_offsets(GROUP) == {(LOG, 0): 2}
        assert (await reopened.trajectory(log.trajectory_id)).final_score == 7.0
    finally:
        await reopened.close()
