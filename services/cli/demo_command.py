"""`apollo demo`: the main job on the embedded stack, end to end."""

from __future__ import annotations

import asyncio
import json

import typer
from rich.console import Console

from apollo.v1 import events_pb2 as pb
from services.cli.connection import running_stack
from services.cli.gateway_commands import add_account
from services.cli.run_commands import follow_run, publish_start
from services.cli.stack.home import ApolloHome
from services.cli.stack_commands import up
from services.gateway.users import Role
from services.tasks.packs import TaskCatalog
from services.tasks.starting import started_event

console = Console(stderr=True)

DEMO_TASK = "data-filtering-dedup"
# Small enough for 2 CPU cores in minutes, large enough to show summaries and guidance.
DEMO_STEPS = 8
# The first prompt (system, tools, task) is about 2,800 SmolLM2 tokens and a step adds about
# 100; at 3,300 the window is summarized every few steps, not at every step (each summary is
# one more model call).
DEMO_SUMMARY_THRESHOLD = 3300


def _withhold_finish(body: pb.TrajectoryStarted) -> None:
    """SmolLM2-135M cannot solve the task, and offered `finish` it often calls it at once;
    without it the step budget ends the run, leaving time for guidance and summaries."""
    kept = [tool for tool in body.tools if tool.name != "finish"]
    del body.tools[:]
    body.tools.extend(kept)


def demo(as_json: bool = typer.Option(False, "--json", help="Print only the result JSON.")) -> None:
    """Run a built-in task with the local model while a simulated annotator steers it."""
    home = ApolloHome.resolve()
    if running_stack(home) is None:
        up(detach=True)
    stack = running_stack(home)
    if stack is None or not stack.gateway_url:
        console.print("[red]The stack has no gateway; is APOLLO_SERVICES narrowing it?[/red]")
        raise typer.Exit(1)
    token = asyncio.run(add_account(stack.postgres_dsn, None, Role.ADMIN))
    pack = TaskCatalog().get(DEMO_TASK)
    started = started_event(
        pack,
        "local",
        started_by="cli",
        service="cli",
        budgets=pb.Budgets(max_steps=DEMO_STEPS),
        summary_threshold=DEMO_SUMMARY_THRESHOLD,
    )
    _withhold_finish(started.trajectory_started)
    if not as_json:
        console.print(
            f"Running [bold]{DEMO_TASK}[/bold] with the local model for {DEMO_STEPS} steps; "
            f"watch it live at {stack.gateway_url}/#/trajectories/{started.trajectory_id}"
        )
    publish_start(started)
    result = follow_run(pack, started.trajectory_id, quiet=as_json, simulated_annotator=True)
    result["ui_url"] = stack.gateway_url
    if not as_json:
        console.print(f"UI: {stack.gateway_url}  token (admin): {token}")
        console.print("The stack keeps running; `apollo down` stops it.")
    print(json.dumps(result))
