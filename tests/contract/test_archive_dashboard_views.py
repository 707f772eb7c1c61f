"""The archive's read-model views for the dashboards' tables, on Postgres: each figure is what
the appended events say."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import topic_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
async def pg_archive(pg_dsn: str) -> AsyncIterator[PgArchive]:
    archive = await PgArchive.connect(pg_dsn)
    await archive.migrate()
    yield archive
    await archive.close()


def judged(log, action: pb.Event, ruleset: str, *rules: str) -> pb.Event:
    reasons = [pb.JudgeReason(rule_id=rule) for rule in rules]
    body = pb.ActionJudged(
        action_id=action.event_id,
        step_index=action.action_proposed.step_index,
        ruleset_version=ruleset,
        verdict=pb.VERDICT_MASK if rules else pb.VERDICT_KEEP,
        reasons=reasons,
    )
    return log.event(body)


async def append(archive: PgArchive, *events: pb.Event) -> None:
    await archive.append([(topic_for(event).name, event) for event in events])


@pytest.fixture
def rows(pg_dsn: str) -> Callable[[str], Awaitable[list[dict]]]:
    """What a dashboard's SQL panel reads: the query's rows."""

    async def fetch(query: str) -> list[dict]:
        connection = await asyncpg.connect(pg_dsn)
        try:
            return [dict(row) for row in await connection.fetch(query)]
        finally:
            await connection.close()

    return fetch


async def test_trajectory_interventions_rate_score_and_latest_ruleset(
    pg_archive, new_log, rows
) -> None:
    guided, quiet = new_log(), new_log()
    actions = [guided.action(step) for step in range(4)]
    await append(
        pg_archive,
        guided.started("task-a"),
        *actions[:2],
        guided.guidance(),
        *actions[2:],
        guided.ended(score=75.0),
        quiet.started("task-b"),
    )
    # Two rulesets judged the guided run; the later one is shown.
    await append(pg_archive, *(judged(guided, a, "old", "rule-x") for a in actions))
    await append(
        pg_archive,
        judged(guided, actions[0], "new", "rule-x"),
        *(judged(guided, a, "new") for a in actions[1:]),
    )

    found = await rows(
        "SELECT trajectory_id, task_id, status, steps, guidance_count, guidance_per_100_steps,"
        " final_score, ruleset_version, judged_actions, masked_actions, mask_rate"
        " FROM trajectory_interventions ORDER BY task_id",
    )

    assert found == [
        {
            "trajectory_id": guided.trajectory_id,
            "task_id": "task-a",
            "status": "finished",
            "steps": 4,
            "guidance_count": 1,
            "guidance_per_100_steps": 25,
            "final_score": 75.0,
            "ruleset_version": "new",
            "judged_actions": 4,
            "masked_actions": 1,
            "mask_rate": 0.25,
        },
        {
            "trajectory_id": quiet.trajectory_id,
            "task_id": "task-b",
            "status": "running",
            "steps": 0,
            "guidance_count": 0,
            "guidance_per_100_steps": None,
            "final_score": None,
            "ruleset_version": None,
            "judged_actions": None,
            "masked_actions": None,
            "mask_rate": None,
        },
    ]


async def test_verdicts_by_ruleset_and_by_rule(pg_archive, new_log, rows) -> None:
    log = new_log()
    actions = [log.action(step) for step in range(4)]
    await append(pg_archive, log.started(), *actions)
    await append(
        pg_archive,
        judged(log, actions[0], "r1", "repeated-poll", "repeated-poll", "llm-judge"),
        judged(log, actions[1], "r1", "repeated-poll"),
        judged(log, actions[2], "r1"),
        judged(log, actions[3], "r1"),
    )

    by_ruleset = await rows(
        "SELECT ruleset_version, actions, masked, mask_rate FROM ruleset_verdicts"
    )
    by_rule = await rows(
        "SELECT rule_id, fired, masked, mask_rate FROM rule_verdicts ORDER BY rule_id",
    )

    assert by_ruleset == [{"ruleset_version": "r1", "actions": 4, "masked": 2, "mask_rate": 0.5}]
    assert by_rule == [
        {"rule_id": "llm-judge", "fired": 1, "masked": 1, "mask_rate": 0.25},
        {"rule_id": "repeated-poll", "fired": 2, "masked": 2, "mask_rate": 0.5},
    ]


async def test_trajectories_by_status(pg_archive, new_log, rows) -> None:
    done, failed, running = new_log(), new_log(), new_log()
    await append(
        pg_archive,
        done.started(),
        done.action(0),
        done.action(1),
        done.guidance(),
        done.ended(score=40.0),
        failed.started(),
        failed.ended(pb.END_REASON_ERROR),
        running.started(),
        running.action(0),
    )

    found = await rows(
        "SELECT status, trajectories, steps, guidance, guidance_per_100_steps, mean_final_score"
        " FROM trajectory_statuses ORDER BY status",
    )

    assert found == [
        {
            "status": "failed",
            "trajectories": 1,
            "steps": 0,
            "guidance": 0,
            "guidance_per_100_steps": None,
            "mean_final_score": None,
        },
        {
            "status": "finished",
            "trajectories": 1,
            "steps": 2,
            "guidance": 1,
            "guidance_per_100_steps": 50,
            "mean_final_score": 40.0,
        },
        {
            "status": "running",
            "trajectories": 1,
            "steps": 1,
            "guidance": 0,
            "guidance_per_100_steps": 0,
            "mean_final_score": None,
        },
    ]
