"""The trajectory read model's contract, run against every EventArchive implementation.

Each scenario runs twice: all events in one append (the set-wise path) and one append per
event (the row-update path), because the Postgres archive computes them differently.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import UnknownTrajectoryStatus
from services.eventlog.events import new_event
from services.eventlog.topics import topic_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["one-append", "append-each"])
def record(request, archive):
    """Append events either all together or one at a time."""

    async def append(*events: pb.Event) -> None:
        pairs = [(topic_for(event).name, event) for event in events]
        if request.param == "one-append":
            await archive.append(pairs)
        else:
            for pair in pairs:
                await archive.append([pair])

    return append


def at(event: pb.Event) -> datetime:
    """The event's time as the row reports it: an aware UTC datetime."""
    return event.occurred_at.ToDatetime(tzinfo=UTC)


async def test_a_started_trajectory_is_running_with_its_task(archive, record, new_log) -> None:
    log = new_log()
    started = log.started("task-dedup")

    await record(started)

    row = await archive.trajectory(log.trajectory_id)
    assert (row.task_id, row.status, row.steps, row.guidance_count) == (
        "task-dedup",
        "running",
        0,
        0,
    )
    assert row.started_at == at(started)
    assert row.last_activity_at == at(started)
    assert (row.ended_at, row.final_score) == (None, None)


async def test_steps_count_actions_and_guidance_counts_guidance(archive, record, new_log) -> None:
    log = new_log()
    actions = [log.action(step) for step in range(3)]

    await record(
        log.started(), actions[0], log.observation(actions[0]), log.guidance(), actions[1],
        log.observation(actions[1]), log.guidance("and again"), actions[2],
    )  # fmt: skip

    row = await archive.trajectory(log.trajectory_id)
    assert (row.steps, row.guidance_count) == (3, 2)


async def test_redelivered_events_do_not_count_twice(archive, record, new_log) -> None:
    log = new_log()
    started, action, guidance = log.started(), log.action(0), log.guidance()

    await record(started, action, action, guidance, guidance)
    await record(action, guidance, started, log.action(1))

    row = await archive.trajectory(log.trajectory_id)
    assert (row.steps, row.guidance_count) == (2, 1)


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        (pb.END_REASON_FINISHED, "finished"),
        (pb.END_REASON_STEP_BUDGET, "finished"),
        (pb.END_REASON_TIME_BUDGET, "finished"),
        (pb.END_REASON_ERROR, "failed"),
        (pb.END_REASON_CANCELLED, "cancelled"),
        (pb.END_REASON_UNSPECIFIED, "failed"),
    ],
    ids=lambda value: value if isinstance(value, str) else pb.EndReason.Name(value),
)
async def test_the_end_reason_sets_the_status(archive, record, new_log, reason, status) -> None:
    log = new_log()
    ended = log.ended(reason, score=61.5)

    await record(log.started(), log.action(0), ended)

    row = await archive.trajectory(log.trajectory_id)
    assert (row.status, row.final_score) == (status, 61.5)
    assert row.ended_at == at(ended)


async def test_an_end_without_a_score_has_no_final_score(archive, record, new_log) -> None:
    log = new_log()

    await record(log.started(), log.ended(pb.END_REASON_ERROR))

    row = await archive.trajectory(log.trajectory_id)
    assert (row.status, row.final_score) == ("failed", None)


async def test_a_cancel_request_marks_a_running_trajectory_cancelled(
    archive, record, new_log
) -> None:
    log = new_log()

    await record(log.started(), log.action(0), log.cancelled())

    row = await archive.trajectory(log.trajectory_id)
    assert (row.status, row.ended_at) == ("cancelled", None)


async def test_a_cancel_request_after_the_end_changes_nothing(archive, record, new_log) -> None:
    log = new_log()

    await record(log.started(), log.ended(pb.END_REASON_FINISHED, score=90.0), log.cancelled())

    row = await archive.trajectory(log.trajectory_id)
    assert (row.status, row.final_score) == ("finished", 90.0)


async def test_the_end_after_a_cancel_request_decides(archive, record, new_log) -> None:
    log = new_log()

    await record(log.started(), log.cancelled(), log.ended(pb.END_REASON_TIME_BUDGET, score=12.0))

    row = await archive.trajectory(log.trajectory_id)
    assert (row.status, row.final_score) == ("finished", 12.0)


async def test_events_before_the_start_still_build_the_row(archive, record, new_log) -> None:
    log = new_log()
    guidance, started = log.guidance(), log.started("late-task")

    await record(guidance, started, log.started("second-start-is-ignored"))

    row = await archive.trajectory(log.trajectory_id)
    assert (row.task_id, row.status, row.guidance_count) == ("late-task", "running", 1)
    assert row.started_at == at(started)


async def test_last_activity_is_the_latest_event_time(archive, record, new_log) -> None:
    log = new_log()
    started, action = log.started(), log.action(0)
    delayed = log.event(
        pb.GuidanceSubmitted(annotator="ann", text="old"),
        at=at(started) - timedelta(hours=1),
    )

    await record(started, action, delayed)

    row = await archive.trajectory(log.trajectory_id)
    assert row.last_activity_at == at(action)


async def test_verdicts_leave_the_trajectory_row_alone(archive, record, new_log) -> None:
    log = new_log()
    action = log.action(0)
    await record(log.started(), action)
    before = await archive.trajectory(log.trajectory_id)

    await record(log.judged(action))

    assert await archive.trajectory(log.trajectory_id) == before


async def test_dataset_level_events_make_no_row(archive, record) -> None:
    await record(new_event(pb.DatasetBuilt(dataset_id="ds-1"), trajectory_id="", service="test"))

    assert await archive.trajectories() == []


async def test_the_list_is_most_recent_activity_first(archive, record, new_log) -> None:
    old, middle, recent = new_log(), new_log(), new_log()  # each starts an hour later
    recent_start = recent.started()
    await record(old.started(), middle.started(), recent_start)
    # The oldest trajectory acts last, so it comes first.
    await record(
        old.event(
            pb.GuidanceSubmitted(annotator="a", text="x"), at=at(recent_start) + timedelta(days=1)
        )
    )

    rows = await archive.trajectories()
    assert [row.trajectory_id for row in rows] == [
        old.trajectory_id, recent.trajectory_id, middle.trajectory_id,
    ]  # fmt: skip
    assert [row.trajectory_id for row in await archive.trajectories(limit=2)] == [
        old.trajectory_id, recent.trajectory_id,
    ]  # fmt: skip


async def test_the_list_filters_by_status(archive, record, new_log) -> None:
    running, finished, failed = new_log(), new_log(), new_log()
    await record(
        running.started(), finished.started(), finished.ended(pb.END_REASON_FINISHED),
        failed.started(), failed.ended(pb.END_REASON_ERROR),
    )  # fmt: skip

    for status, log in [("running", running), ("finished", finished), ("failed", failed)]:
        rows = await archive.trajectories(status=status)
        assert [row.trajectory_id for row in rows] == [log.trajectory_id]
    assert await archive.trajectories(status="cancelled") == []


async def test_an_unknown_status_filter_is_rejected(archive) -> None:
    with pytest.raises(UnknownTrajectoryStatus, match="done"):
        await archive.trajectories(status="done")


async def test_an_unknown_trajectory_has_no_row(archive) -> None:
    assert await archive.trajectory("traj-never-seen") is None
