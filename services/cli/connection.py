"""Where the CLI finds the broker and the archive: the environment, else the running stack."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import typer
from rich.console import Console

from services.cli.settings import CliSettings
from services.cli.stack.home import ApolloHome
from services.cli.stack.state import StackState, pid_alive
from services.eventlog.archive import ArchivedEvent
from services.eventlog.pg_archive import PgArchive


class NoStackRunning(RuntimeError):
    """Neither APOLLO_KAFKA/APOLLO_POSTGRES_DSN nor a running embedded stack."""


@dataclass(frozen=True)
class Connection:
    """Addresses of the broker and the archive."""

    kafka: str
    postgres_dsn: str


def running_stack(home: ApolloHome) -> StackState | None:
    """The state of this home's stack if its supervisor is alive."""
    state = StackState.load(home.state_file)
    if state is None or not pid_alive(state.supervisor_pid):
        return None
    return state


def resolve_connection(home: ApolloHome | None = None) -> Connection:
    """APOLLO_KAFKA and APOLLO_POSTGRES_DSN win; otherwise the stack in APOLLO_HOME."""
    settings = CliSettings()
    kafka, dsn = settings.kafka, settings.postgres_dsn
    if kafka and dsn:
        return Connection(kafka, dsn)
    home = home or ApolloHome.resolve()
    state = running_stack(home)
    if state is None or state.phase != "ready":
        raise NoStackRunning(
            f"no Apollo stack is running in {home.root}: start one with `apollo up --detach`, "
            "or set APOLLO_KAFKA and APOLLO_POSTGRES_DSN"
        )
    return Connection(kafka or state.broker_address, dsn or state.postgres_dsn)


def connection_or_exit() -> Connection:
    """`resolve_connection()` for a command: without a stack, say so and exit 2."""
    try:
        return resolve_connection()
    except NoStackRunning as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error


async def archived_records(dsn: str, trajectory_id: str) -> list[ArchivedEvent]:
    """One trajectory's archive records in log order."""
    archive = await PgArchive.connect(dsn)
    try:
        return await archive.events(trajectory_id)
    finally:
        await archive.close()


# How long the recorder may take to archive a trajectory's end after the log showed it.
ARCHIVE_WAIT_S = 60.0


async def archived_end(dsn: str, trajectory_id: str) -> None:
    """Wait until the archive holds the trajectory's end, and so every action before it."""
    archive = await PgArchive.connect(dsn)
    try:
        deadline = time.monotonic() + ARCHIVE_WAIT_S
        while time.monotonic() < deadline:
            row = await archive.trajectory(trajectory_id)
            if row is not None and row.ended_at is not None:
                return
            await asyncio.sleep(0.2)
    finally:
        await archive.close()
    Console(stderr=True).print(
        f"[red]the archive has not recorded the end of {trajectory_id} after "
        f"{ARCHIVE_WAIT_S:.0f} s; is the recorder running (`apollo status`)?[/red]"
    )
    raise typer.Exit(1)
