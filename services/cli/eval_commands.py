"""`apollo eval`: a checkpoint on held-out tasks without guidance; `apollo lineage`: its origin."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from enum import StrEnum

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.tree import Tree

from apollo.v1 import events_pb2 as pb
from services.cli.connection import Connection, connection_or_exit
from services.cli.dataset_commands import artifacts_root
from services.cli.importing import import_events
from services.cli.run_commands import follow_trajectory
from services.eventlog.bus import KafkaBus
from services.eventlog.pg_archive import PgArchive
from services.tasks.families import HELDOUT_FIRST_SEED, heldout_seeds
from services.tasks.packs import TaskCatalog, TaskPackError
from services.tasks.starting import BadPolicy, started_event
from services.trainer.evaluation import (
    UNTRAINED,
    EvaluatedCheckpoint,
    EvaluationRun,
    UnknownCheckpoint,
    evaluated_checkpoint,
    evaluation_labels,
    plan_runs,
    scored_event,
    seeded,
)
from services.trainer.evaluation_archive import TrainingFacts, training_facts
from services.trainer.evaluation_report import markdown_table, report_rows
from services.trainer.lineage import Lineage, lineage_of

console = Console(stderr=True)
eval_app = typer.Typer(
    help="Evaluate a checkpoint on held-out tasks with no human guidance; report the scores.",
    invoke_without_command=True,
)


class ReportFormat(StrEnum):
    """How `apollo eval report` prints its table."""

    MARKDOWN = "markdown"
    JSON = "json"


async def _archived_facts(dsn: str) -> TrainingFacts:
    archive = await PgArchive.connect(dsn)
    try:
        return await training_facts(archive)
    finally:
        await archive.close()


def _task_ids(tasks: str) -> list[str]:
    catalog = TaskCatalog()
    task_ids = [task.strip() for task in tasks.split(",") if task.strip()]
    if not task_ids:
        raise typer.BadParameter("name at least one task", param_hint="--tasks")
    for task_id in task_ids:
        try:
            catalog.get(task_id)
        except TaskPackError as error:
            raise typer.BadParameter(str(error), param_hint="--tasks") from error
    return task_ids


def _started(run: EvaluationRun, max_steps: int | None, variant: str) -> pb.Event:
    pack = TaskCatalog().get(run.task_id)
    try:
        started = started_event(
            pack,
            run.checkpoint.policy,
            started_by="cli",
            service="cli",
            budgets=pb.Budgets(max_steps=max_steps or 0),
            labels=evaluation_labels(run.checkpoint.checkpoint_id, variant),
        )
    except BadPolicy as error:
        raise typer.BadParameter(str(error), param_hint="--policy") from error
    return seeded(started, run)


async def _run_all(
    connection: Connection,
    runs: list[EvaluationRun],
    facts: TrainingFacts,
    max_steps: int | None,
    variant: str,
    quiet: bool,
) -> int:
    """Start (unless already started), follow and score every run not scored yet; how many."""
    archive = await PgArchive.connect(connection.postgres_dsn)
    try:
        started = await archive.has(run.started_event_id for run in runs)
    finally:
        await archive.close()
    pending = [run for run in runs if run.scored_event_id not in facts.scored_event_ids]
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True, disable=quiet) as progress:
        overall = progress.add_task("runs scored", total=len(runs))
        progress.update(overall, completed=len(runs) - len(pending))
        async with KafkaBus(connection.kafka, client_id="apollo-eval") as bus:
            for run in pending:
                progress.update(overall, description=f"{run.task_id} seed {run.seed}")
                # A rerun after a kill follows the run it had started instead of a second one.
                if run.started_event_id not in started:
                    await bus.publish(_started(run, max_steps, variant))
                ended = await follow_trajectory(connection.kafka, run.trajectory_id, progress)
                await import_events(connection, [scored_event(run, ended, variant)])
                progress.advance(overall)
    return len(pending)


@eval_app.callback()
def evaluate(
    ctx: typer.Context,
    checkpoint: str | None = typer.Option(
        None, help=f"Checkpoint id (its CheckpointSaved), or '{UNTRAINED}' for the base model."
    ),
    tasks: str | None = typer.Option(None, help="Comma-separated task pack ids to run on."),
    seeds: int = typer.Option(
        1, min=1, help="Runs per task, on the held-out instances (task seeds) 1000, 1001, …"
    ),
    max_steps: int | None = typer.Option(None, min=1, help="Step budget (default: the task's)."),
    variant: str = typer.Option("", help="Ablation label, e.g. 'human+filter'."),
    policy: str | None = typer.Option(
        None, help="Run the checkpoint as served by this policy spec (e.g. openai:NAME on vLLM)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """Run the checkpoint on each task and seed with no guidance and publish EvaluationScored."""
    if ctx.invoked_subcommand is not None:
        return
    if checkpoint is None or tasks is None:
        raise typer.BadParameter("give --checkpoint and --tasks (or use `apollo eval report`)")
    request = EvaluationRequest(
        checkpoint, tuple(_task_ids(tasks)), tuple(heldout_seeds(seeds)), max_steps, variant, policy
    )
    connection = connection_or_exit()
    evaluated, added = evaluate_checkpoint(connection, request, quiet=as_json)
    _print_evaluation(evaluated, evaluation_scores(connection, evaluated), added, as_json)


@dataclass(frozen=True)
class EvaluationRequest:
    """What one `apollo eval` asks for: the checkpoint, its tasks and seeds, and how to run it."""

    checkpoint_id: str
    task_ids: tuple[str, ...]
    # The task instances to run on (held-out seeds, 1000 and up, unless asked otherwise).
    seeds: tuple[int, ...] = (HELDOUT_FIRST_SEED,)
    # The step budget of each run; None keeps the task's.
    max_steps: int | None = None
    variant: str = ""
    # The policy spec serving the checkpoint; None runs its directory on the local backend.
    served_as: str | None = None


def evaluate_checkpoint(
    connection: Connection, request: EvaluationRequest, quiet: bool = False
) -> tuple[EvaluatedCheckpoint, int]:
    """Run and score every task and seed of the request not scored yet (a progress bar unless
    `quiet`): the checkpoint as evaluated, and how many runs were newly scored."""
    facts = asyncio.run(_archived_facts(connection.postgres_dsn))
    try:
        saved = facts.checkpoints.get(request.checkpoint_id)
        evaluated = evaluated_checkpoint(
            request.checkpoint_id, saved, artifacts_root(), request.served_as
        )
    except UnknownCheckpoint as error:
        raise typer.BadParameter(str(error), param_hint="--checkpoint") from error
    runs = plan_runs(evaluated, request.task_ids, request.seeds)
    added = asyncio.run(
        _run_all(connection, runs, facts, request.max_steps, request.variant, quiet)
    )
    return evaluated, added


def evaluation_scores(
    connection: Connection, evaluated: EvaluatedCheckpoint
) -> list[pb.EvaluationScored]:
    """Every archived score of the checkpoint."""
    return asyncio.run(_archived_facts(connection.postgres_dsn)).scores_of(evaluated.checkpoint_id)


def _print_evaluation(
    evaluated: EvaluatedCheckpoint, scores: list[pb.EvaluationScored], added: int, as_json: bool
) -> None:
    if as_json:
        rows = [row.as_json() for row in report_rows(scores)]
        result = {"checkpoint_id": evaluated.checkpoint_id, "policy": evaluated.policy}
        typer.echo(json.dumps({**result, "scored": added, "report": rows}))
        return
    console.print(f"{added} new runs of {evaluated.checkpoint_id} ({evaluated.policy}) scored")
    typer.echo(markdown_table(report_rows(scores)))


@eval_app.command()
def report(
    checkpoint: list[str] | None = typer.Option(
        None, help="Only these checkpoints (repeat the option); default: every one evaluated."
    ),
    output: ReportFormat = typer.Option(ReportFormat.MARKDOWN, "--format", help="Table format."),
) -> None:
    """Mean ± sd of final and best scores over seeds, per checkpoint, variant and task."""
    facts = asyncio.run(_archived_facts(connection_or_exit().postgres_dsn))
    scores = [event.evaluation_scored for event in facts.scores]
    if checkpoint:
        scores = [score for score in scores if score.checkpoint_id in checkpoint]
    rows = report_rows(scores)
    if output is ReportFormat.JSON:
        typer.echo(json.dumps([row.as_json() for row in rows]))
    else:
        typer.echo(markdown_table(rows))


async def _lineage(dsn: str, checkpoint_id: str) -> Lineage:
    archive = await PgArchive.connect(dsn)
    try:
        return await lineage_of(archive, await training_facts(archive), checkpoint_id)
    finally:
        await archive.close()


def lineage(
    checkpoint: str = typer.Argument(..., help="Checkpoint id (its CheckpointSaved)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """A checkpoint's dataset, ruleset version, trajectories (tasks, guidance) and evaluations."""
    try:
        traced = asyncio.run(_lineage(connection_or_exit().postgres_dsn, checkpoint))
    except UnknownCheckpoint as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    if as_json:
        typer.echo(json.dumps(traced.as_json()))
        return
    Console().print(_lineage_tree(traced))


def _lineage_tree(traced: Lineage) -> Tree:
    saved = traced.checkpoint
    tree = Tree(f"checkpoint {saved.checkpoint_id}: {saved.base_model} step {saved.optimizer_step}")
    if traced.dataset is None:
        tree.add(f"dataset {saved.dataset_id} (no DatasetBuilt in the archive)")
    else:
        built = traced.dataset
        dataset = tree.add(
            f"dataset {built.dataset_id}: ruleset {built.ruleset_version}, "
            f"{built.react_samples} ReAct + {built.summary_samples} summary samples"
        )
        for origin in traced.trajectories:
            row = origin.row
            dataset.add(
                f"trajectory {origin.trajectory_id}: not archived"
                if row is None
                else f"trajectory {origin.trajectory_id}: {row.task_id}, {row.status}, "
                f"{row.steps} steps, {row.guidance_count} guidance"
            )
    evaluations = tree.add(f"evaluations ({len(traced.evaluations)})")
    for score in traced.evaluations:
        evaluations.add(
            f"{score.task_id} [{score.variant or '-'}]: final {score.final_score:.1f}, "
            f"best {score.best_score:.1f} ({score.evaluation_trajectory_id})"
        )
    return tree
