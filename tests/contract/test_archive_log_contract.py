"""The archive's log contract, run against every EventArchive implementation."""

from __future__ import annotations

from datetime import UTC

import pytest

from apollo.v1 import deadletter_pb2
from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InvalidAppend
from services.eventlog.codec import encode
from services.eventlog.topics import TRAJECTORIES, VERDICTS, topic_for

pytestmark = pytest.mark.timeout(60)

GROUP = "recorder"
LOG = TRAJECTORIES.name


def on_topics(*events: pb.Event) -> list[tuple[str, pb.Event]]:
    """Pair events with the topic each is published on, as the recorder reads them."""
    return [(topic_for(event).name, event) for event in events]


def ids(records) -> list[str]:
    return [record.event_id for record in records]


async def test_append_counts_only_new_events_and_skips_duplicates(archive, new_log) -> None:
    log = new_log()
    first = [log.started(), log.action(0), log.action(1)]
    later = log.action(2)

    assert await archive.append(on_topics(*first)) == 3
    assert await archive.append(on_topics(first[1], later, first[0])) == 1
    assert await archive.count() == 4
    assert ids(await archive.events(log.trajectory_id)) == ids([*first, later])


async def test_a_duplicate_within_one_append_is_stored_once(archive, new_log) -> None:
    log = new_log()
    started, action = log.started(), log.action(0)

    assert await archive.append(on_topics(started, action, started, action)) == 2
    assert ids(await archive.events(log.trajectory_id)) == [started.event_id, action.event_id]


async def test_positions_follow_input_order_not_event_id_order(archive, new_log) -> None:
    log = new_log()
    events = [log.started(), *(log.action(step) for step in range(20))]
    # UUIDv7 ids sort by creation time: append newest first so only input order can explain it.
    reversed_input = list(reversed(events))

    await archive.append(on_topics(*reversed_input[:7]))
    await archive.append(on_topics(*reversed_input[7:]))

    records = await archive.events(log.trajectory_id)
    assert ids(records) == ids(reversed_input)
    positions = [record.position for record in records]
    assert positions == sorted(set(positions))


async def test_records_read_back_exactly_what_was_appended(archive, new_log) -> None:
    log = new_log()
    action = log.action(0)
    verdict = log.judged(action)

    await archive.append([(LOG, action), (VERDICTS.name, verdict)])

    stored_action, stored_verdict = await archive.events(log.trajectory_id)
    assert stored_action.event == action
    assert stored_action.raw == encode(action)
    assert stored_action.topic == LOG
    assert stored_action.kind == "action_proposed"
    assert stored_action.event_id == action.event_id
    assert stored_action.trajectory_id == log.trajectory_id
    assert stored_action.occurred_at == action.occurred_at.ToDatetime(tzinfo=UTC)
    assert (stored_verdict.topic, stored_verdict.kind) == (VERDICTS.name, "action_judged")


async def test_the_archive_keeps_a_copy_not_the_callers_message(archive, new_log) -> None:
    log = new_log()
    started = log.started("task-a")
    await archive.append(on_topics(started))

    started.trajectory_started.task_id = "changed-after-append"

    (stored,) = await archive.events(log.trajectory_id)
    assert stored.event.trajectory_started.task_id == "task-a"


async def test_events_of_a_trajectory_leave_out_other_trajectories(archive, new_log) -> None:
    one, other = new_log(), new_log()
    mine = [one.started(), one.action(0)]
    await archive.append(on_topics(mine[0], other.started(), mine[1], other.action(0)))

    assert ids(await archive.events(one.trajectory_id)) == ids(mine)
    assert await archive.events("traj-unknown") == []


async def test_has_returns_the_known_subset(archive, new_log) -> None:
    log = new_log()
    known = [log.started(), log.action(0)]
    await archive.append(on_topics(*known))

    found = await archive.has([known[1].event_id, "not-archived", known[0].event_id])

    assert found == {known[0].event_id, known[1].event_id}
    assert await archive.has([]) == set()


@pytest.mark.parametrize("batch", [1, 2, 7, 1000], ids=lambda b: f"batch-{b}")
async def test_iter_all_yields_everything_in_position_order(archive, new_log, batch) -> None:
    one, other = new_log(), new_log()
    action = one.action(0)
    appended = [one.started(), other.started(), action, one.judged(action), other.action(0)]
    await archive.append(on_topics(*appended[:2]))
    await archive.append(on_topics(*appended[2:]))

    records = [record async for record in archive.iter_all(batch=batch)]

    assert ids(records) == ids(appended)
    assert [record.topic for record in records] == [topic_for(e).name for e in appended]
    assert [record.position for record in records] == sorted(r.position for r in records)


async def test_iter_all_starts_after_the_given_position(archive, new_log) -> None:
    log = new_log()
    appended = [log.started(), *(log.action(step) for step in range(5))]
    await archive.append(on_topics(*appended))
    third = (await archive.events(log.trajectory_id))[2]

    rest = [record async for record in archive.iter_all(after_position=third.position, batch=2)]

    assert ids(rest) == ids(appended[3:])


async def test_iter_all_of_an_empty_archive_yields_nothing(archive) -> None:
    assert [record async for record in archive.iter_all()] == []


async def test_last_position_is_the_latest_events_position(archive, new_log) -> None:
    assert await archive.last_position() == 0
    log = new_log()
    first = [log.started(), log.action(0)]
    await archive.append(on_topics(*first))
    # A redelivery inserts nothing, so the latest position stays where it was.
    await archive.append(on_topics(*first))
    later = log.action(1)
    await archive.append(on_topics(later))

    *_, latest = [record async for record in archive.iter_all()]
    assert latest.event_id == later.event_id
    assert await archive.last_position() == latest.position


async def test_starts_finds_each_trajectorys_started_event(archive, new_log) -> None:
    one, other, unstarted = new_log(), new_log(), new_log()
    started = one.started("task-one")
    await archive.append(
        on_topics(other.started("task-other"), started, one.action(0), unstarted.action(0))
    )

    found = await archive.starts([one.trajectory_id, unstarted.trajectory_id, "never-seen"])

    assert list(found) == [one.trajectory_id]
    assert found[one.trajectory_id].event == started
    assert await archive.starts([]) == {}


async def test_offsets_are_stored_with_the_events(archive, new_log) -> None:
    log = new_log()
    await archive.append(on_topics(log.started()), offsets={(GROUP, LOG, 0): 1})
    await archive.append(
        on_topics(log.action(0)), offsets={(GROUP, LOG, 0): 2, (GROUP, "t2", 3): 9}
    )

    assert await archive.load_offsets(GROUP) == {(LOG, 0): 2, ("t2", 3): 9}
    assert await archive.load_offsets("another-group") == {}


async def test_offsets_advance_when_a_batch_holds_no_new_events(archive, new_log) -> None:
    log = new_log()
    started = log.started()
    await archive.append(on_topics(started), offsets={(GROUP, LOG, 0): 1})

    assert await archive.append(on_topics(started), offsets={(GROUP, LOG, 0): 2}) == 0
    assert await archive.append([], offsets={(GROUP, LOG, 0): 3}) == 0

    assert await archive.load_offsets(GROUP) == {(LOG, 0): 3}


async def test_a_refused_append_stores_neither_events_nor_offsets(archive, new_log) -> None:
    log = new_log()
    bodiless = pb.Event(event_id="0190c0de-0000-7000-8000-000000000000", trajectory_id="x")

    with pytest.raises(InvalidAppend):
        await archive.append([*on_topics(log.started()), (LOG, bodiless)], {(GROUP, LOG, 0): 2})
    with pytest.raises(InvalidAppend):
        await archive.append(on_topics(log.action(0)), offsets={(GROUP, LOG, 0): -1})

    assert await archive.count() == 0
    assert await archive.load_offsets(GROUP) == {}
    assert await archive.trajectory(log.trajectory_id) is None


async def test_reset_offsets_replaces_all_offsets_of_one_group(archive, new_log) -> None:
    log = new_log()
    await archive.append(
        on_topics(log.started()),
        offsets={(GROUP, LOG, 0): 40, (GROUP, "gone", 0): 7, ("judge", LOG, 0): 5},
    )

    await archive.reset_offsets(GROUP, {(LOG, 0): 12})

    assert await archive.load_offsets(GROUP) == {(LOG, 0): 12}
    assert await archive.load_offsets("judge") == {(LOG, 0): 5}


def dead_letter(offset: int, reason: str = "not protobuf") -> deadletter_pb2.DeadLetter:
    return deadletter_pb2.DeadLetter(
        topic=LOG, partition=0, offset=offset, key=b"k", raw=b"\x00garbage",
        reason=reason, error_class="undecodable", consumer_group="judge",
    )  # fmt: skip


async def test_dead_letters_are_archived_once_per_original_message(archive) -> None:
    assert await archive.append_dead_letters([dead_letter(3), dead_letter(5)]) == 2
    assert await archive.append_dead_letters([dead_letter(5, "again"), dead_letter(8)]) == 1

    assert await archive.dead_letters() == [dead_letter(8), dead_letter(5), dead_letter(3)]
    assert await archive.dead_letters(limit=1) == [dead_letter(8)]
    assert await archive.append_dead_letters([]) == 0
