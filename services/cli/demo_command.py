"""`apollo demo`: the main job on the embedded stack."""

from __future__ import annotations

import asyncio
import json

import typer
from rich.console import Console

from services.cli.connection import resolve_connection, running_stack
from services.cli.importing import import_events, read_export
from services.cli.log_commands import events as print_events
from services.cli.samples import SAMPLE_TRAJECTORY
from services.cli.stack.home import ApolloHome
from services.cli.stack_commands import up
from services.trajectory.fold import fold

console = Console(stderr=True)


def demo(as_json: bool = typer.Option(False, "--json", help="Print only the result JSON.")) -> None:
    """Start the stack if needed, import the built-in sample trajectory and show it."""
    if running_stack(ApolloHome.resolve()) is None:
        up(detach=True)
    sample = read_export(SAMPLE_TRAJECTORY)
    trajectory = fold(sample)
    outcome = asyncio.run(import_events(resolve_connection(), sample))
    if not as_json:
        console.print(
            f"Imported the sample trajectory ({outcome['added']} new events, "
            f"{outcome['skipped']} already archived):"
        )
        print_events(trajectory.trajectory_id, follow=False)
    result = {
        "trajectory_id": trajectory.trajectory_id,
        "steps": len(trajectory.steps),
        "score": trajectory.final_score,
        "summaries": len(trajectory.summaries),
        "guidance_submitted": len(trajectory.guidance),
        "guidance_delivered": len(trajectory.delivered_guidance_ids),
        "ui_url": None,
    }
    print(json.dumps(result))
    if not as_json:
        console.print("The stack keeps running; `apollo down` stops it.")
