"""`apollo dataset build|show|diff|export`: versioned SFT datasets from the archive."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from services.cli.connection import Connection, connection_or_exit
from services.cli.options import parse_labels
from services.cli.stack.home import ApolloHome
from services.eventlog.bus import KafkaBus
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import TRAINING
from services.trainer.dataset_build import BuildOutcome, DatasetBuildConfig, build_dataset
from services.trainer.dataset_events import dataset_built_event
from services.trainer.dataset_report import dataset_diff, dataset_summary
from services.trainer.dataset_store import DatasetNotFound, read_manifest
from services.trainer.exports import ExportFormat, export_dataset
from services.trainer.selection import EmptySelection, TrajectorySelection
from services.trainer.settings import TrainerSettings
from services.trainer.tokenization import (
    LOCAL_TOKENIZER,
    SampleTokenizer,
    TokenizerMismatch,
    load_sample_tokenizer,
)
from services.trainer.verdict_masks import UnknownRulesetVersion

dataset_app = typer.Typer(help="Build, inspect and export SFT datasets.", no_args_is_help=True)
_err = Console(stderr=True)


def artifacts_root() -> Path:
    """APOLLO_ARTIFACTS_DIR, else the `artifacts` folder of the Apollo home."""
    return TrainerSettings().artifacts_root(ApolloHome.resolve().root)


@dataset_app.command()
def build(
    ruleset: str = typer.Option(..., help="Ruleset version whose mask verdicts drop turns."),
    trajectory: list[str] = typer.Option([], help="Only this trajectory (repeatable)."),
    task: str | None = typer.Option(None, help="Only trajectories of this task."),
    label: list[str] = typer.Option([], help="Only trajectories with this label k=v (repeatable)."),
    status: str | None = typer.Option(None, help="Only trajectories in this status."),
    min_score: float | None = typer.Option(None, help="Only trajectories scoring at least this."),
    react_upsample: int = typer.Option(7, help="Repeats of each window sample."),
    summary_upsample: int = typer.Option(10, help="Repeats of each summary sample."),
    max_tokens: int = typer.Option(131072, help="Drop samples longer than this."),
    tokenizer: str = typer.Option(LOCAL_TOKENIZER, help="`local` or a tokenizer directory."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Build a dataset from archived trajectories and a ruleset's verdicts; publish DatasetBuilt."""
    config = DatasetBuildConfig(
        ruleset_version=ruleset,
        selection=TrajectorySelection(
            trajectory_ids=tuple(trajectory),
            task_id=task,
            labels=parse_labels(label),
            status=status,
            min_score=min_score,
        ),
        react_upsample=react_upsample,
        summary_upsample=summary_upsample,
        max_tokens=max_tokens,
    )
    outcome = built_or_exit(connection_or_exit(), config, tokenizer)
    if as_json:
        print(json.dumps({"created": outcome.created, **outcome.manifest}))
        return
    dataset_id = outcome.manifest["dataset_id"]
    if not outcome.created:
        Console().print(f"dataset {dataset_id} is already built from these inputs; nothing to do")
        return
    _print_summary(dataset_summary(outcome.manifest))


def built_or_exit(
    connection: Connection, config: DatasetBuildConfig, tokenizer: str, quiet: bool = False
) -> BuildOutcome:
    """Build the dataset under the artifacts root and publish its DatasetBuilt; on an empty
    selection, an unknown ruleset version or a missing tokenizer, say so and exit 2. Each
    sample refused for a prompt mismatch is said on stderr; `quiet` hides the progress."""
    try:
        outcome = asyncio.run(
            _build(connection, config, load_sample_tokenizer(tokenizer), artifacts_root(), quiet)
        )
    except (EmptySelection, UnknownRulesetVersion, FileNotFoundError) as error:
        _err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    for rejection in outcome.rejected:
        _err.print(f"[red]prompt mismatch, sample not written: {rejection}[/red]")
    return outcome


async def _build(
    connection: Connection,
    config: DatasetBuildConfig,
    tokenizer: SampleTokenizer,
    root: Path,
    quiet: bool,
) -> BuildOutcome:
    def tracked(items, description: str):
        return track(items, description=description, console=_err, transient=True, disable=quiet)

    archive = await PgArchive.connect(connection.postgres_dsn)
    try:
        outcome = await build_dataset(archive, config, tokenizer, root, track=tracked)
        if outcome.created:
            event = dataset_built_event(root, outcome.manifest)
            await archive.append([(TRAINING.name, event)])
            async with KafkaBus(connection.kafka, client_id="apollo-dataset") as bus:
                await bus.publish(event)
        return outcome
    finally:
        await archive.close()


def _manifest_or_exit(dataset_id: str) -> dict:
    try:
        return read_manifest(artifacts_root(), dataset_id)
    except DatasetNotFound as error:
        _err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error


@dataset_app.command()
def show(
    dataset_id: str = typer.Argument(..., help="Dataset id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Samples, tokens, trained share, masked share by rule, and lineage of a dataset."""
    summary = dataset_summary(_manifest_or_exit(dataset_id))
    if as_json:
        print(json.dumps(summary))
        return
    _print_summary(summary)


def _print_summary(summary: dict) -> None:
    table = Table("figure", "value", title=f"dataset {summary['dataset_id']}")
    for name, value in summary["figures"].items():
        table.add_row(name, str(value))
    Console().print(table)
    lineage = Table("trajectory", "task", "last position", "steps", "guidance", title="lineage")
    for entry in summary["lineage"]:
        lineage.add_row(
            entry["trajectory_id"],
            entry["task_id"],
            str(entry["last_position"]),
            str(entry["steps"]),
            str(entry["guidance_count"]),
        )
    Console().print(lineage)


@dataset_app.command()
def diff(
    first: str = typer.Argument(..., help="Dataset id A."),
    second: str = typer.Argument(..., help="Dataset id B."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What differs between two datasets: inputs, recipe and figures."""
    report = dataset_diff(_manifest_or_exit(first), _manifest_or_exit(second))
    if as_json:
        print(json.dumps(report))
        return
    table = Table("what", first, second, title="dataset diff")
    for name, (left, right) in report.items():
        table.add_row(name, str(left), str(right))
    Console().print(table)


@dataset_app.command()
def export(
    dataset_id: str = typer.Argument(..., help="Dataset id."),
    export_format: ExportFormat = typer.Option(..., "--format", help="Target trainer's format."),
    out: Path = typer.Option(..., help="Directory to write the files into."),
    tokenizer: str | None = typer.Option(
        None,
        help="The trainer's tokenizer (`local` or a directory), checked against the dataset's.",
    ),
) -> None:
    """Write the dataset in a trainer's format (Parquet, and JSONL where it reads that)."""
    _manifest_or_exit(dataset_id)
    try:
        checked = load_sample_tokenizer(tokenizer) if tokenizer else None
        written = export_dataset(artifacts_root(), dataset_id, export_format, out, checked)
    except (TokenizerMismatch, FileNotFoundError) as error:
        _err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    for path in written:
        Console().print(f"wrote {path}")
