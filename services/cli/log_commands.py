"""`apollo events`, `export`, `import` and `trajectories`: the log as a user sees it."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from services.cli.connection import archived_records, connection_or_exit
from services.cli.importing import ImportFileError, ImportFormat, import_events, read_events
from services.cli.rendering import describe_event
from services.eventlog.jsonl import to_json_line
from services.eventlog.pg_archive import PgArchive
from services.eventlog.tail import tail_trajectory
from services.eventlog.topics import TRAJECTORIES

console = Console(stderr=True)


def export(trajectory_id: str = typer.Argument(..., help="Trajectory id.")) -> None:
    """Print a trajectory's log as JSON lines (protobuf JSON, proto field names), in log order."""
    connection = connection_or_exit()
    archived = asyncio.run(archived_records(connection.postgres_dsn, trajectory_id))
    # The log only: verdicts and training facts are derived, and re-judging must leave a
    # trajectory's export byte-identical.
    records = [record for record in archived if record.topic == TRAJECTORIES.name]
    if not records:
        console.print(f"[red]No trajectory {trajectory_id!r} in the archive[/red]")
        raise typer.Exit(1)
    # As written, not upcast: importing the export stores the very bytes archived here.
    sys.stdout.write("".join(to_json_line(record.as_written()) + "\n" for record in records))


def events(
    trajectory_id: str = typer.Argument(..., help="Trajectory id."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new events."),
) -> None:
    """Print a trajectory's events, one line each; with --follow, live."""
    connection = connection_or_exit()
    if follow:
        try:
            asyncio.run(tail_trajectory(connection.kafka, trajectory_id, _print_event))
        except KeyboardInterrupt:
            return
        return
    archived = asyncio.run(archived_records(connection.postgres_dsn, trajectory_id))
    if not archived:
        console.print(f"[red]No trajectory {trajectory_id!r} in the archive[/red]")
        raise typer.Exit(1)
    for record in archived:
        _print_event(record.event)


def _print_event(event) -> None:
    print(describe_event(event), flush=True)


def import_(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="The file to import."),
    file_format: ImportFormat = typer.Option(
        ImportFormat.EXPORT,
        "--format",
        help="export: `apollo export` JSON lines; innovatorbench: a ResearchGym ReAct node file.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Append the events of a file; events already archived are skipped."""
    # The whole file is read and checked before anything is connected to or written.
    try:
        events = read_events(path, file_format)
    except ImportFileError as error:
        console.print(f"[red]{escape(str(error))}[/red]", soft_wrap=True)
        raise typer.Exit(2) from error
    connection = connection_or_exit()
    outcome = asyncio.run(import_events(connection, events))
    if as_json:
        print(json.dumps(outcome))
    else:
        console.print(
            f"read {outcome['read']}, added {outcome['added']}, "
            f"skipped {outcome['skipped']} already archived"
        )


def trajectories(
    limit: int = typer.Option(50, help="Most rows."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List trajectories, most recent activity first."""
    connection = connection_or_exit()

    async def load() -> list:
        archive = await PgArchive.connect(connection.postgres_dsn)
        try:
            return await archive.trajectories(limit=limit)
        finally:
            await archive.close()

    rows = asyncio.run(load())
    if as_json:
        print(json.dumps([row.as_json() for row in rows]))
        return
    table = Table("trajectory", "task", "status", "steps", "guidance", "score", "last activity")
    for row in rows:
        score = "-" if row.final_score is None else f"{row.final_score:.1f}"
        table.add_row(
            row.trajectory_id,
            row.task_id,
            row.status,
            str(row.steps),
            str(row.guidance_count),
            score,
            row.last_activity_at.isoformat(timespec="seconds"),
        )
    Console().print(table)
