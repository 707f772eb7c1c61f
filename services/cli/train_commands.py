"""`apollo train`: masked SFT of a base model on a built dataset, ending in a checkpoint."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from services.cli.connection import NoStackRunning, resolve_connection
from services.cli.importing import import_events
from services.cli.stack.home import ApolloHome
from services.llm.port import FatalBackendError
from services.trainer.checkpoints import EVENT_FILE, SavedCheckpoint
from services.trainer.settings import TrainerSettings, dataset_dir
from services.trainer.training_config import TrainingRecipe

console = Console(stderr=True)
_DEFAULTS = TrainingRecipe()


def train_command(
    dataset: Annotated[str, typer.Option(help="Id of a built dataset (`apollo dataset build`)")],
    base_model: Annotated[
        str, typer.Option(help="`local` (SmolLM2-135M) or a transformers model directory")
    ] = "local",
    epochs: Annotated[float, typer.Option(help="Passes over the dataset")] = _DEFAULTS.epochs,
    lr: Annotated[float, typer.Option(help="Peak learning rate")] = _DEFAULTS.learning_rate,
    batch: Annotated[int, typer.Option(help="Samples per device per micro-batch")] = (
        _DEFAULTS.per_device_batch
    ),
    grad_accum: Annotated[int, typer.Option(help="Micro-batches per optimizer step")] = (
        _DEFAULTS.grad_accum
    ),
    max_steps: Annotated[
        int | None, typer.Option(help="Stop after this many optimizer steps (overrides --epochs)")
    ] = None,
    save_steps: Annotated[int, typer.Option(help="Steps between resumable checkpoints")] = (
        _DEFAULTS.save_steps
    ),
    lora: Annotated[
        bool, typer.Option("--lora", help="Train a LoRA adapter, merged in at the end")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Directory of the resumable checkpoints (default: under the artifacts)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Train with per-turn loss masks; rerun the same command to resume after a kill."""
    recipe = TrainingRecipe(
        epochs=epochs,
        learning_rate=lr,
        per_device_batch=batch,
        grad_accum=grad_accum,
        max_steps=max_steps,
        save_steps=save_steps,
        lora=lora,
    )
    trained = trained_or_exit(dataset, base_model, recipe, out, console)
    if trained is None:  # not the main process of a distributed run: it reports nothing
        return
    saved, recorded = trained
    body = saved.body
    if as_json:
        result = {
            "checkpoint_id": body.checkpoint_id,
            "directory": str(saved.directory),
            "policy": f"local:{saved.directory}",
            "optimizer_step": body.optimizer_step,
            "metrics": dict(body.metrics),
            "recorded": recorded,
        }
        typer.echo(json.dumps(result, sort_keys=True))
        return
    typer.echo(f"checkpoint {body.checkpoint_id} at step {body.optimizer_step}: {saved.directory}")
    figures = sorted(body.metrics.items())
    typer.echo("  " + ", ".join(f"{name} {value:.6g}" for name, value in figures))
    typer.echo(f"  run it with --policy local:{saved.directory}")


def trained_or_exit(
    dataset: str, base_model: str, recipe: TrainingRecipe, out: Path | None, progress: Console
) -> tuple[SavedCheckpoint, bool] | None:
    """Train (or resume, or find finished) the checkpoint of the dataset, base model and recipe,
    its loss bar on `progress`, and record its CheckpointSaved when a stack is up: the checkpoint
    and whether it was recorded. None on every process of a distributed run but the main one;
    an unusable dataset or base model is said on stderr and exits 2."""
    # torch and TRL load only when training, not with every `apollo` command.
    from services.trainer.training import BaseModelError, TrainingRun, train
    from services.trainer.training_data import TrainingDataError

    artifacts = TrainerSettings().artifacts_root(ApolloHome.resolve().root)
    run = TrainingRun(dataset_dir(artifacts, dataset), base_model, recipe, artifacts, out)
    try:
        saved = train(run, progress)
    except (TrainingDataError, BaseModelError, FatalBackendError) as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    if saved is None:
        return None
    return saved, _record(saved)


def _record(saved: SavedCheckpoint) -> bool:
    """Archive and publish CheckpointSaved (once: a rerun's event is deduplicated)."""
    try:
        connection = resolve_connection()
    except NoStackRunning:
        console.print(
            "no stack running, so CheckpointSaved is not recorded yet: "
            f"`apollo import {saved.directory / EVENT_FILE}` once one is up"
        )
        return False
    asyncio.run(import_events(connection, [saved.event]))
    return True
