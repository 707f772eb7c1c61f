"""Re-judging 1,000 archived trajectories under a changed ruleset, killed mid-run and rerun.

The trajectories are written straight into a real PgArchive; `apollo judge run` runs as a
user runs it, in a subprocess against that archive, with no broker.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import asyncpg
import pytest

from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import VERDICTS, topic_for
from services.judge.rejudge import Rejudging, Selection
from services.judge.ruleset import SHIPPED_RULESETS, parse_ruleset, shipped_ruleset
from tests.judge.conftest import Call, NullAnswer, ScriptedRun

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TRAJECTORIES = 1000
LS = Call("list_files", {"path": "."}, fields={"content": "a.py"})
BROKEN = Call("open_file", {"path": "b.py"}, success=False, error="'b.py' is not a file")
SLEEP = Call("sleep", {"seconds": 5})
# Trajectory shapes in turn; a listing repeated twice is masked only under the changed ruleset.
SCRIPTS = ((LS, LS, BROKEN, SLEEP, SLEEP), (LS, NullAnswer(), LS, SLEEP), (SLEEP, LS, LS, LS))
ACTIONS = sum(len(SCRIPTS[n % len(SCRIPTS)]) for n in range(TRAJECTORIES))


def changed_ruleset_file(tmp_path: Path) -> Path:
    """The shipped default with the polling-loop rule firing from the second repeat."""
    text = (SHIPPED_RULESETS / "default.yaml").read_text().replace("run_length: 3", "run_length: 2")
    path = tmp_path / "changed.yaml"
    path.write_text(text)
    return path


async def archive_trajectories(archive: PgArchive) -> list[str]:
    """Write the synthetic trajectories into the archive as the recorder would."""
    events, ids = [], []
    for n in range(TRAJECTORIES):
        run = ScriptedRun().play(*SCRIPTS[n % len(SCRIPTS)])
        events += run.events
        ids.append(run.trajectory_id)
    for start in range(0, len(events), 2000):
        await archive.append([(topic_for(e).name, e) for e in events[start : start + 2000]])
    return ids


def apollo(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """Start `apollo ARGS` against the test's archive, with no broker."""
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> dict:
    """The --json report of a process that must succeed."""
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    return json.loads(stdout)


async def judged_count(dsn: str, version: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM verdicts WHERE ruleset_version = $1", version
        )
    finally:
        await connection.close()


async def kill_when_judging(process: subprocess.Popen[str], dsn: str, version: str) -> int:
    """SIGKILL the run as soon as some of its verdicts are in; return how many were."""
    deadline = time.monotonic() + 60
    while (count := await judged_count(dsn, version)) == 0 and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        await asyncio.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    return count


async def test_rejudging_the_archive_adds_one_verdict_per_action_under_the_new_version_only(
    pg_dsn: str, tmp_path: Path
) -> None:
    archive = await PgArchive.connect(pg_dsn)
    await archive.migrate()
    ids = await archive_trajectories(archive)
    old = shipped_ruleset("default")
    rejudging = Rejudging(archive, old, Selection())
    await rejudging.run(await rejudging.trajectory_ids())
    old_verdicts = await archive.verdicts(old.version)
    logs_before = await archive.logs(ids)
    rules = changed_ruleset_file(tmp_path)
    new = parse_ruleset(rules.read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("APOLLO_")}
    env |= {"APOLLO_POSTGRES_DSN": pg_dsn, "APOLLO_HOME": str(tmp_path / "home")}
    command = ("judge", "run", "--rules", str(rules), "--json")
    # `apollo export` asks for a broker address it never uses.
    export = ("export", ids[0])
    export_env = {**env, "APOLLO_KAFKA": "127.0.0.1:9"}
    exported_before = apollo(export_env, *export).communicate(timeout=60)[0]

    # Small batches, so the kill lands mid-run.
    killed = apollo(env, *command, "--batch", "5")
    judged_before_kill = await kill_when_judging(killed, pg_dsn, new.version)
    rerun = finished(apollo(env, *command))
    again = finished(apollo(env, *command))

    assert killed.returncode == -signal.SIGKILL
    assert 0 < judged_before_kill < ACTIONS
    assert rerun["plan"]["already_judged"] >= judged_before_kill
    assert rerun["run"]["recorded"] == ACTIONS - rerun["plan"]["already_judged"]
    assert (again["run"]["judged"], again["run"]["recorded"]) == (0, 0)
    assert again["plan"] == {**again["plan"], "actions": ACTIONS, "already_judged": ACTIONS}
    # Every action judged exactly once per version, in the events as in the read model.
    verdict_events = [r.event async for r in archive.iter_all() if r.topic == VERDICTS.name]
    keys = Counter((e.action_judged.action_id, e.action_judged.ruleset_version)
                   for e in verdict_events)  # fmt: skip
    assert len(keys) == 2 * ACTIONS
    assert set(keys.values()) == {1}
    assert {v.ruleset_version for v in await archive.verdict_versions()} == {
        old.version,
        new.version,
    }
    assert await archive.verdicts(old.version) == old_verdicts
    new_verdicts = await archive.verdicts(new.version)
    assert len(new_verdicts) == ACTIONS

    def polling(verdicts):
        return sum("polling-loop" in v.rule_ids for v in verdicts)

    # Each shape repeats a listing: three times in one shape (333), twice in the others.
    assert (polling(old_verdicts), polling(new_verdicts)) == (333, 1334)
    # The trajectory log, and so every export (written from these rows), byte for byte.
    assert apollo(export_env, *export).communicate(timeout=60)[0] == exported_before
    assert exported_before.count("\n") == len(logs_before[ids[0]])
    logs_after = await archive.logs(ids)
    assert {t: [r.raw for r in log] for t, log in logs_after.items()} == {
        t: [r.raw for r in log] for t, log in logs_before.items()
    }
    await archive.close()
