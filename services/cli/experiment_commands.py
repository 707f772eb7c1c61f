"""`apollo experiment ablation`: the paper's ablation in miniature, as one resumable command."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import typer
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console

from services.cli.connection import connection_or_exit
from services.cli.dataset_commands import artifacts_root
from services.cli.experiments.ablation_plan import SIZES, AblationPlan, AblationSize
from services.cli.experiments.ablation_run import (
    LOCAL_STUDENT,
    Ablation,
    run_ablation,
    write_report,
)
from services.cli.experiments.ablation_store import (
    ConflictingPlan,
    experiment_dir,
    resumed_or_new,
)
from services.cli.experiments.ablation_teacher import (
    TEACHER_CHOICES,
    BadTeacherChoice,
    Teacher,
    chosen_teacher,
    unreachable_reason,
)
from services.cli.gateway_commands import add_account
from services.cli.stack_commands import stack_with_gateway
from services.cli.stages import Stages
from services.gateway.users import Role
from services.tasks.families import is_heldout
from services.tasks.packs import TaskCatalog, TaskPackError

console = Console(stderr=True)
experiment_app = typer.Typer(help="Experiments over the whole loop.", no_args_is_help=True)
BAD_INPUT_EXIT = 2


class SizeChoice(StrEnum):
    """The sizes `--size` offers."""

    SMALL = "small"
    DEFAULT = "default"


def _seeds(text: str | None, held_out: bool, option: str) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        seeds = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise typer.BadParameter(
            f"give comma-separated integers: {error}", param_hint=option
        ) from None
    wrong = [seed for seed in seeds if is_heldout(seed) != held_out]
    if not seeds or wrong:
        kind = "held-out (1000 and up)" if held_out else "training (0-999)"
        raise typer.BadParameter(f"give {kind} instance seeds; not {wrong}", param_hint=option)
    return seeds


def _families(text: str | None, size: AblationSize) -> tuple[str, ...]:
    catalog = TaskCatalog()
    chosen = [f.strip() for f in text.split(",") if f.strip()] if text else size.families
    try:
        return tuple(catalog.get(family).id for family in chosen or catalog.ids())
    except TaskPackError as error:
        raise typer.BadParameter(str(error), param_hint="--families") from error


def _teacher(option: str | None) -> Teacher:
    try:
        teacher = chosen_teacher(option)
    except BadTeacherChoice as error:
        raise typer.BadParameter(str(error), param_hint="--teacher") from None
    reason = None if teacher.is_simulated else unreachable_reason(teacher)
    if reason is not None:
        raise typer.BadParameter(
            f"{reason}: set it where the stack starts (this command starts one if none runs)",
            param_hint="--teacher",
        )
    return teacher


@experiment_app.command()
def ablation(
    size: SizeChoice = typer.Option(SizeChoice.DEFAULT, help="small checks the pipeline."),
    families: str | None = typer.Option(None, help="Comma-separated task families."),
    train_seeds: str | None = typer.Option(None, help="Training instance seeds (0-999)."),
    heldout_seeds: str | None = typer.Option(None, help="Held-out instance seeds (1000+)."),
    repeats: int | None = typer.Option(None, min=1, help="Students trained per variant."),
    teacher: str | None = typer.Option(
        None, help=f"Who collects: {TEACHER_CHOICES} (default: APOLLO_TEACHER, else simulated)."
    ),
    name: str | None = typer.Option(None, help="Experiment name; rerun with it to continue."),
    student: str = typer.Option(
        LOCAL_STUDENT, help="Base model of the students: `local` or a model directory."
    ),
    out: Path | None = typer.Option(None, help="Also copy the report into this folder."),
    as_json: bool = typer.Option(False, "--json", help="Print only the result JSON."),
) -> None:
    """Collect with and without the annotator, judge, build the 2x2 datasets, train the local
    model on each, evaluate them and the untrained model on held-out instances, and report."""
    chosen = SIZES[size.value]
    overrides = {
        "train_seeds": _seeds(train_seeds, held_out=False, option="--train-seeds"),
        "heldout_seeds": _seeds(heldout_seeds, held_out=True, option="--heldout-seeds"),
        "repeats": repeats,
    }
    chosen = dataclasses.replace(chosen, **{k: v for k, v in overrides.items() if v is not None})
    started_at = Timestamp()
    started_at.FromDatetime(datetime.now(UTC))
    plan = AblationPlan(name or f"ablation-{size.value}", started_at, _families(families, chosen),
                        chosen, _teacher(teacher))  # fmt: skip
    root = artifacts_root()
    try:
        plan = resumed_or_new(root, plan)
    except ConflictingPlan as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(BAD_INPUT_EXIT) from None
    gateway_url = stack_with_gateway().gateway_url
    connection = connection_or_exit()
    token = asyncio.run(add_account(connection.postgres_dsn, None, Role.ANNOTATOR))
    stages = Stages(Console(stderr=True, quiet=as_json), total=5)
    ablation_run = Ablation(plan, connection, gateway_url, token, student)
    results = run_ablation(ablation_run, stages, console)
    report = write_report(results, experiment_dir(root, plan.experiment))
    if out is not None:
        shutil.copytree(
            report.parent, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("plan.json")
        )
    summary = {
        "experiment": plan.experiment,
        "report": str(report),
        "final": {s.variant: s.final.mean for s in results.students},
        "stage_seconds": stages.seconds,
    }
    if not as_json:
        console.print(f"Report: {report}")
    typer.echo(json.dumps(summary))
