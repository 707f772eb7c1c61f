"""The verdict read model's contract, and selecting trajectories, against every archive."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.topics import TRAJECTORIES, topic_for
from services.eventlog.verdict_model import RuleCounts

pytestmark = pytest.mark.timeout(60)


def verdict(log, action: pb.Event, version: str, masked: bool, *rules: str) -> pb.Event:
    """An ActionJudged on `action` under `version`, with a reason per rule id."""
    return log.event(
        pb.ActionJudged(
            action_id=action.event_id,
            step_index=action.action_proposed.step_index,
            ruleset_version=version,
            verdict=pb.VERDICT_MASK if masked else pb.VERDICT_KEEP,
            reasons=[pb.JudgeReason(rule_id=rule) for rule in rules],
        )
    )


async def record(archive, *events: pb.Event) -> int:
    return await archive.append([(topic_for(event).name, event) for event in events])


async def test_each_archived_verdict_is_a_row_of_its_action_and_version(archive, new_log) -> None:
    log = new_log()
    first, second = log.action(0), log.action(1)
    await record(archive, log.started(), first, second)

    await record(
        archive,
        verdict(log, first, "v1", True, "failed-action", "depends-on-masked"),
        verdict(log, second, "v1", False),
        verdict(log, first, "v2", False),
    )

    rows = await archive.verdicts("v1")
    assert [(r.action_id, r.step_index, r.verdict, r.rule_ids) for r in rows] == [
        (first.event_id, 0, "mask", ("failed-action", "depends-on-masked")),
        (second.event_id, 1, "keep", ()),
    ]
    assert {row.trajectory_id for row in rows} == {log.trajectory_id}
    assert [r.verdict for r in await archive.verdicts("v2")] == ["keep"]


async def test_a_redelivered_or_second_verdict_of_a_key_changes_nothing(archive, new_log) -> None:
    log = new_log()
    action = log.action(0)
    original = verdict(log, action, "v1", True, "null-action")
    await record(archive, log.started(), action, original, original)

    assert await record(archive, original) == 0
    await record(archive, verdict(log, action, "v1", False))

    rows = await archive.verdicts("v1")
    assert [(r.verdict, r.rule_ids) for r in rows] == [("mask", ("null-action",))]


async def test_log_events_add_no_verdict_rows(archive, new_log) -> None:
    log = new_log()
    action = log.action(0)

    await record(archive, log.started(), action, log.observation(action), log.ended())

    assert await archive.verdict_versions() == []
    assert (await archive.trajectory(log.trajectory_id)).steps == 1


async def test_verdicts_of_some_trajectories_only(archive, new_log) -> None:
    logs = [new_log() for _ in range(3)]
    for log in logs:
        action = log.action(0)
        await record(archive, log.started(), action, verdict(log, action, "v1", False))

    rows = await archive.verdicts("v1", [logs[0].trajectory_id, logs[2].trajectory_id])

    assert [row.trajectory_id for row in rows] == sorted(
        [logs[0].trajectory_id, logs[2].trajectory_id]
    )


async def test_versions_count_actions_masks_and_reasons_per_rule(archive, new_log) -> None:
    first, second = new_log(), new_log()
    a, b, c = first.action(0), first.action(1), second.action(0)
    await record(archive, first.started(), a, b, second.started(), c)
    await record(
        archive,
        verdict(first, a, "old", True, "failed-action", "failed-action"),
        verdict(first, b, "old", False, "depends-on-masked"),
        verdict(second, c, "old", True, "failed-action"),
    )
    await record(archive, verdict(first, a, "new", False))

    newest, oldest = await archive.verdict_versions()

    assert (newest.ruleset_version, newest.trajectories, newest.actions, newest.masked) == (
        "new", 1, 1, 0,
    )  # fmt: skip
    assert (oldest.ruleset_version, oldest.trajectories, oldest.actions, oldest.masked) == (
        "old", 2, 3, 2,
    )  # fmt: skip
    assert oldest.rules == {
        "failed-action": RuleCounts(fired=2, masked=2),
        "depends-on-masked": RuleCounts(fired=1, masked=0),
    }
    assert oldest.as_json()["mask_rate"] == round(2 / 3, 6)


async def test_a_ruleset_document_is_kept_once_under_its_version(archive) -> None:
    assert await archive.record_ruleset("sha256:aa", '{"rules":[]}') is True
    assert await archive.record_ruleset("sha256:aa", '{"rules":["other"]}') is False

    assert await archive.ruleset_document("sha256:aa") == '{"rules":[]}'
    assert await archive.ruleset_document("sha256:bb") is None
    assert await archive.ruleset_versions() == ["sha256:aa"]


async def test_logs_hold_only_each_trajectorys_log_events_in_order(archive, new_log) -> None:
    first, second = new_log(), new_log()
    started, action = first.started(), first.action(0)
    await record(archive, started, second.started(), action, verdict(first, action, "v", False))

    logs = await archive.logs([first.trajectory_id, "traj-unknown"])

    assert list(logs) == [first.trajectory_id]
    assert [r.event_id for r in logs[first.trajectory_id]] == [started.event_id, action.event_id]
    assert {r.topic for r in logs[first.trajectory_id]} == {TRAJECTORIES.name}


async def test_trajectories_are_selected_by_task_and_start_time(archive, new_log) -> None:
    early, late, other = new_log(), new_log(), new_log()
    await record(archive, early.started("task-a"), late.started("task-a"), other.started("task-b"))
    late_start = (await archive.trajectory(late.trajectory_id)).started_at

    assert await archive.select_trajectories() == sorted(
        [early.trajectory_id, late.trajectory_id, other.trajectory_id]
    )
    assert await archive.select_trajectories(task_id="task-a") == sorted(
        [early.trajectory_id, late.trajectory_id]
    )
    assert await archive.select_trajectories(task_id="task-a", since=late_start) == [
        late.trajectory_id
    ]
    assert await archive.select_trajectories(since=datetime(2100, 1, 1, tzinfo=UTC)) == []
