"""Chaos: while scripted trajectories run on the embedded stack, guided through the gateway,
SIGKILL a random process of the stack many times; afterwards every trajectory is complete and
its archive holds every step, guidance message and verdict exactly once.

CHAOS_SEED replays a run (the seed is printed), CHAOS_KILLS sets how many kills (30 here,
300 in `make chaos`), CHAOS_INFRA=0 spares the broker and Postgres.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from services.cli.gateway_commands import add_account
from services.cli.stack.home import ApolloHome
from services.cli.stack.state import StackState
from services.eventlog.archive import ArchivedEvent
from services.eventlog.pg_archive import PgArchive
from services.eventlog.postgres import POSTGRES_UNREACHABLE
from services.gateway.users import Role
from services.judge.ruleset import shipped_ruleset
from tests.e2e.apollo_cli import apollo
from tests.e2e.conftest import embedded_stack
from tests.faults import archive_checks as check
from tests.faults.chaos_monkey import INFRA_KINDS, SERVICE_KINDS, ChaosMonkey
from tests.faults.chaos_traffic import ChaosAnnotator, chaos_start, publish_until_acked

SEED = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(2**32))
KILLS = int(os.environ.get("CHAOS_KILLS", "30"))
KINDS = SERVICE_KINDS + (() if os.environ.get("CHAOS_INFRA") == "0" else INFRA_KINDS)
# Trajectories running side by side while the kills go on, and the steps of each.
CONCURRENT = 3
STEPS = 30
END_TIMEOUT_S = 180.0
POLL_S = 0.5
# After the last verdict, a while in which a duplicate event would still show up.
SETTLE_S = 2.0

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240 + 10 * KILLS)]

T = TypeVar("T")


@dataclass
class GuidedRun:
    """One trajectory of the run and the guidance the gateway accepted for it."""

    trajectory_id: str
    annotator: ChaosAnnotator


async def from_archive(dsn: str, read: Callable[[PgArchive], Awaitable[T]]) -> T | None:
    """`read` on a fresh connection; None while Postgres is down or restarting."""
    try:
        archive = await PgArchive.connect(dsn)
    except POSTGRES_UNREACHABLE:
        return None
    try:
        return await read(archive)
    except POSTGRES_UNREACHABLE:
        return None
    finally:
        with contextlib.suppress(*POSTGRES_UNREACHABLE):  # the server may be gone already
            await archive.close()


async def until(dsn: str, read: Callable[[PgArchive], Awaitable[T]], done, what: str) -> T:
    """Poll `read` until `done(result)`; fail after END_TIMEOUT_S."""
    deadline = time.monotonic() + END_TIMEOUT_S
    while True:
        result = await from_archive(dsn, read)
        if result is not None and done(result):
            return result
        assert time.monotonic() < deadline, f"not within {END_TIMEOUT_S:.0f} s: {what}"
        await asyncio.sleep(POLL_S)


async def guided_run(state: StackState, home: ApolloHome, token: str, rng: random.Random):
    """Start one trajectory, guide it, and return once the archive shows its end."""
    started = chaos_start(rng, STEPS)
    await publish_until_acked(state.broker_address, started)
    trajectory_id = started.trajectory_id
    annotator = ChaosAnnotator(home, token, trajectory_id, STEPS, random.Random(rng.random()))
    await annotator.run()
    await until(
        state.postgres_dsn,
        lambda archive: archive.trajectory(trajectory_id),
        lambda row: row.status != "running",
        f"trajectory {trajectory_id} ended",
    )
    return GuidedRun(trajectory_id, annotator)


async def run_under_chaos(home: ApolloHome, monkey: ChaosMonkey) -> list[GuidedRun]:
    """Keep CONCURRENT guided runs going until the monkey is done; every run, once all ended."""
    state = StackState.load(home.state_file)
    assert state is not None
    token = await add_account(state.postgres_dsn, None, Role.ANNOTATOR)
    rng = random.Random(SEED + 2)
    killing = asyncio.create_task(monkey.run())
    running: set[asyncio.Task] = set()
    finished: list[asyncio.Task] = []
    while not killing.done():
        while len(running) < CONCURRENT:
            running.add(asyncio.create_task(guided_run(state, home, token, rng)))
        done, running = await asyncio.wait(running | {killing}, return_when=asyncio.FIRST_COMPLETED)
        finished += [task for task in done if task is not killing]
        running -= {killing}
    killing.result()  # a stack that did not recover fails here
    await asyncio.gather(*running)
    return [task.result() for task in [*finished, *running]]


async def archived_runs(dsn: str, runs: list[GuidedRun], versions: list[str]):
    """Each run's archive records, once every action of every run has its verdicts."""
    records: dict[str, list[ArchivedEvent]] = {}
    for run in runs:

        async def read(archive: PgArchive, trajectory_id=run.trajectory_id):
            return await archive.events(trajectory_id)

        records[run.trajectory_id] = await until(
            dsn,
            read,
            lambda found: check.judged_by_all([r.event for r in found], versions),
            f"every action of {run.trajectory_id} judged",
        )
    await asyncio.sleep(SETTLE_S)
    for run in runs:
        found = await from_archive(dsn, lambda a, t=run.trajectory_id: a.events(t))
        records[run.trajectory_id] = found if found is not None else records[run.trajectory_id]
    return records


@contextlib.contextmanager
def kept_logs(home: ApolloHome, keep: Path) -> Iterator[None]:
    """On a failure, keep the stack's logs (its home goes with the stack) and say where."""
    try:
        yield
    except BaseException:
        shutil.copytree(home.logs_dir, keep / "logs", dirs_exist_ok=True)
        print(f"the stack's logs: {keep / 'logs'}")
        raise


def test_every_step_guidance_and_verdict_survives_random_sigkills(tmp_path: Path) -> None:
    print(f"chaos seed {SEED} ({KILLS} kills of {', '.join(KINDS)}): replay with CHAOS_SEED={SEED}")
    with embedded_stack(",".join(SERVICE_KINDS)) as path, kept_logs(ApolloHome(path), tmp_path):
        home = ApolloHome(path)
        state = StackState.load(home.state_file)
        assert state is not None
        monkey = ChaosMonkey(home, KINDS, SEED, KILLS)
        began = time.monotonic()
        runs = asyncio.run(run_under_chaos(home, monkey))
        chaos_s = time.monotonic() - began
        versions = [shipped_ruleset("default").version]
        records = asyncio.run(archived_runs(state.postgres_dsn, runs, versions))
        for run in runs:
            found = records[run.trajectory_id]
            events = [record.event for record in found]
            where = f"trajectory {run.trajectory_id} (CHAOS_SEED={SEED})"
            try:
                check.archived_once(found)
                check.ended_once(events)
                check.steps_once(events)
                check.prompts_verify(events, run.trajectory_id)
                check.guidance_delivered_once(events, run.annotator.accepted)
                check.verdicts_once(events, versions)
            except AssertionError as error:
                raise AssertionError(f"{where}: {error}") from error
            verify = apollo(path, "trajectory", "verify", run.trajectory_id, "--json")
            assert json.loads(verify.stdout) == {"actions": STEPS, "matching": STEPS}, where
        print(
            json.dumps(
                {
                    "seed": SEED,
                    "kills": dict(monkey.done),
                    "trajectories": len(runs),
                    "guidance_accepted": sum(len(r.annotator.accepted) for r in runs),
                    "guidance_refused": sum(r.annotator.refused for r in runs),
                    "chaos_seconds": round(chaos_s, 1),
                    "seconds": round(time.monotonic() - began, 1),
                    "log": [(round(t, 1), kind, round(back, 1)) for t, kind, _, back in monkey.log],
                }
            )
        )
    assert sum(monkey.done.values()) == KILLS
