"""`apollo tasks …` and `apollo sandbox exec`: the task packs and the sandbox from a shell."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.eventlog.blobs import digest_of
from services.sandbox.backend import SandboxSpec
from services.sandbox.bubblewrap import BubblewrapBackend
from services.sandbox.checking import check_task
from services.sandbox.observation import cap
from services.sandbox.sessions import Session
from services.tasks.families import MAX_SEED, SPLIT_RULE
from services.tasks.packs import TaskCatalog, TaskPackError
from services.trajectory.canonical import canonical_json

tasks_app = typer.Typer(help="The built-in task packs.", no_args_is_help=True)
sandbox_app = typer.Typer(help="The isolated sandbox.", no_args_is_help=True)
SEED_OPTION = typer.Option(
    "--seed", min=0, max=MAX_SEED, help="The task family's instance (0: the default one)"
)


@tasks_app.command("list")
def list_tasks(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """List the task packs: each a family of seeded instances, or a single instance."""
    catalog = TaskCatalog()
    if as_json:
        typer.echo(catalog.listing_json())
        return
    table = Table("id", "title", "domain", "instances", title=SPLIT_RULE)
    for task in json.loads(catalog.listing_json()):
        instances = "family (any seed)" if task["family"] else "one"
        table.add_row(task["id"], task["title"], task["domain"], instances)
    Console().print(table)


@tasks_app.command("check")
def check(
    task_id: Annotated[str, typer.Argument(help="Task id (see `apollo tasks list`)")],
    seed: Annotated[int, SEED_OPTION] = 0,
    baseline: Annotated[bool, typer.Option("--baseline", help="Do nothing, then grade")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Run the task's reference solution (or nothing) on one instance in a fresh sandbox and
    grade it."""
    try:
        result = asyncio.run(
            check_task(TaskCatalog(), task_id, BubblewrapBackend(), seed=seed, baseline=baseline)
        )
    except TaskPackError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    if as_json:
        typer.echo(json.dumps(result))
    else:
        split = "held-out" if result["heldout"] else "training"
        typer.echo(
            f"{task_id} seed {seed} ({split}): score {result['score']} in {result['seconds']} s"
        )


async def _exec(command: str, limit_s: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="apollo-exec-") as scratch:
        backend = BubblewrapBackend()
        spec = SandboxSpec("exec", Path(scratch) / "workspace")
        await backend.prepare(spec)
        session = Session("exec", spec, backend)
        run, _ = await session.start(command)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.done.wait(), limit_s)
        timed_out = not run.done.is_set()
        await session.kill()
    error = ""
    if timed_out:
        error = f"timed out after {limit_s:g} s; killed"
    elif run.exit_code != 0:
        error = f"exited with {run.exit_code}"
    return {
        "success": not error,
        "exit_code": run.exit_code,
        "output": run.output.text(),
        "error_message": error,
    }


def shown_observation(full: dict) -> dict:
    """The observation capped as the sandbox tools cap theirs, with the full one's digest."""
    shown, truncated = cap(full)
    if truncated:
        shown = {**shown, "full_output_digest": digest_of(canonical_json(full).encode())}
    return shown


@sandbox_app.command("exec")
def exec_command(
    command: Annotated[list[str], typer.Argument(help="Command (after --)")],
    timeout: Annotated[float, typer.Option(help="Seconds before it is killed")] = 10.0,
) -> None:
    """Run one command in a fresh isolated workspace; print the observation as JSON.

    Output over 30,000 characters keeps its newest part, as an agent's tool would see it,
    plus `full_output_digest`, the sha256 of the whole observation's canonical JSON.
    """
    result = asyncio.run(_exec(" ".join(command), timeout))
    typer.echo(json.dumps(shown_observation(result)))
    raise typer.Exit(0 if result["success"] else 1)
