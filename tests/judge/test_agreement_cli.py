"""`apollo judge agreement` reads verdicts and annotators' labels from the archive."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from apollo.v1 import events_pb2 as pb
from services.cli.judge_commands import judge_app
from services.eventlog.events import new_event, new_event_id
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import TRAJECTORIES, VERDICTS

pytestmark = [pytest.mark.timeout(60), pytest.mark.integration]
V1, V2 = "sha256:" + "1a" * 32, "sha256:" + "2b" * 32


def _verdict(tid: str, action: str, version: str, *rules: str) -> pb.Event:
    body = pb.ActionJudged(
        action_id=action,
        ruleset_version=version,
        verdict=pb.VERDICT_MASK if rules else pb.VERDICT_KEEP,
        reasons=[pb.JudgeReason(rule_id=rule) for rule in rules],
    )
    return new_event(body, trajectory_id=tid, service="judge")


def _label(tid: str, action: str, label: int) -> pb.Event:
    body = pb.StepLabeled(action_id=action, label=label, annotator="ada")
    return new_event(body, trajectory_id=tid, service="gateway")


async def _archive(dsn: str) -> None:
    tid, a, b, c = (new_event_id() for _ in range(4))
    archive = await PgArchive.connect(dsn)
    try:
        await archive.migrate()
        await archive.append(
            [
                (VERDICTS.name, _verdict(tid, a, V1, "repeat")),
                (VERDICTS.name, _verdict(tid, b, V1)),
                (VERDICTS.name, _verdict(tid, c, V1, "repeat")),
                (VERDICTS.name, _verdict(tid, a, V2, "repeat")),
                (VERDICTS.name, _verdict(tid, c, V2)),
                (TRAJECTORIES.name, _label(tid, a, pb.STEP_LABEL_MASK)),
                (TRAJECTORIES.name, _label(tid, b, pb.STEP_LABEL_MASK)),
                (TRAJECTORIES.name, _label(tid, b, pb.STEP_LABEL_KEEP)),  # the newest wins
                (TRAJECTORIES.name, _label(tid, c, pb.STEP_LABEL_KEEP)),
            ]
        )
    finally:
        await archive.close()


def _run(args: list[str], dsn: str):
    env = {"APOLLO_KAFKA": "unused:9092", "APOLLO_POSTGRES_DSN": dsn}
    return asyncio.to_thread(CliRunner().invoke, judge_app, args, env=env)


async def test_agreement_with_labels_and_between_two_versions(pg_dsn) -> None:
    await _archive(pg_dsn)
    labels = await _run(["agreement", "--ruleset", V1, "--json"], pg_dsn)
    judges = await _run(["agreement", "--ruleset", V1, "--against", V2, "--json"], pg_dsn)
    table = await _run(["agreement", "--ruleset", V1], pg_dsn)
    unknown = await _run(["agreement", "--ruleset", "sha256:none"], pg_dsn)
    assert labels.exit_code == 0, labels.output
    overall, repeat = json.loads(labels.stdout)
    assert (overall["actions"], overall["true_masks"], overall["false_masks"]) == (3, 1, 1)
    assert (overall["true_keeps"], overall["precision"], overall["recall"]) == (1, 0.5, 1.0)
    assert repeat["name"] == "repeat"
    assert json.loads(judges.stdout)[0]["actions"] == 2
    assert table.exit_code == 0, table.output
    assert "0.500" in table.stdout
    assert "repeat" in table.stdout
    assert unknown.exit_code == 2
    assert "sha256:none" in unknown.output
