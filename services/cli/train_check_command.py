"""`apollo experiment train-check`: does the base model learn from the built-in reference runs?

What to run before trusting a training setup (a base model, a machine, a new build): every
built-in task's scripted reference solution runs on the embedded stack with no summaries (one
context window, so one sample, per task), is judged under the shipped ruleset and built into a
dataset, as `apollo dataset build` builds one. The base model then trains `PASSES` passes over
it, one sample per optimizer step. Each pass holds the same samples (shuffled anew), so the mean
loss of the last pass is comparable with the first's, and it must be at least `LOSS_DROP`
lower. Then the checkpoint runs a held-out task through the stack as a local policy, and every
prompt of that run must verify against its recorded digest. Exit 1 when either check fails.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Annotated

import typer
from rich.console import Console

from services.cli.connection import connection_or_exit
from services.cli.demo_stages import (
    DEMO_RULESET,
    HELD_OUT_TASK,
    dataset_stage,
    eval_stage,
    judge_stage,
    reference_stage,
)
from services.cli.run_commands import prompt_checks
from services.cli.stack_commands import stack_with_gateway
from services.cli.stages import Stages
from services.cli.train_commands import trained_or_exit
from services.tasks.packs import TaskCatalog
from services.trainer.checkpoints import TRAINER_STATE_FILE
from services.trainer.training_config import TrainingRecipe

console = Console(stderr=True)

# Passes over the samples: the first is the model before it has seen them, the last after it
# has seen each twice.
PASSES = 3
# How far below the first pass's mean loss the last pass's must lie (a share of the first).
LOSS_DROP = 0.1
# Full fine-tuning of SmolLM2-135M on a handful of samples: high enough to show in three
# passes, low enough not to diverge.
LEARNING_RATE = 1e-4
EVAL_VARIANT = "train-check"
# A reference run's one window is about 7,000 SmolLM2 tokens (the first prompt alone is about
# 2,800); none may be dropped.
MAX_SAMPLE_TOKENS = 16384


@dataclass(frozen=True)
class LossCheck:
    """The mean loss of the first and of the last pass over the samples, and the verdict."""

    first_pass: float
    last_pass: float
    passed: bool


def check_losses(losses: Sequence[float], passes: int, drop: float) -> LossCheck:
    """Whether the last of `passes` equal passes of per-step `losses` is `drop` below the first."""
    if passes < 2 or not losses or len(losses) % passes:
        raise ValueError(f"{len(losses)} step losses do not make {passes} equal passes")
    per_pass = len(losses) // passes
    first = sum(losses[:per_pass]) / per_pass
    last = sum(losses[-per_pass:]) / per_pass
    return LossCheck(first, last, last <= first * (1 - drop))


def train_check(
    base_model: Annotated[
        str, typer.Option(help="`local` (SmolLM2-135M) or a transformers model directory")
    ] = "local",
    task: Annotated[
        list[str] | None,
        typer.Option(help="A built-in task whose reference run to train on (repeat; default all)"),
    ] = None,
    lr: Annotated[float, typer.Option(help="Peak learning rate")] = LEARNING_RATE,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the result JSON")] = False,
) -> None:
    """Train the base model on the built-in tasks' reference runs: the loss must fall, and the
    checkpoint's run of a held-out task must have prompts that verify."""
    catalog = TaskCatalog()
    task_ids = tuple(task or catalog.ids())
    unknown = sorted(set(task_ids) - set(catalog.ids()))
    if unknown:
        raise typer.BadParameter(f"no built-in task {', '.join(unknown)}", param_hint="--task")
    stack_with_gateway()
    connection = connection_or_exit()
    recipe = TrainingRecipe(
        epochs=PASSES,
        learning_rate=lr,
        per_device_batch=1,
        grad_accum=1,
        save_steps=len(task_ids),
        activation_checkpointing=False,
    )
    stages = Stages(Console(stderr=True, quiet=as_json), total=5)
    with stages.stage("reference", f"the scripted reference runs of {len(task_ids)} tasks"):
        trajectory_ids = [reference_stage(task_id, 0, as_json) for task_id in task_ids]
    with stages.stage("judge", f"the runs under the shipped `{DEMO_RULESET}` ruleset"):
        ruleset_version, _ = judge_stage(connection, trajectory_ids, as_json)
    with stages.stage("dataset", "one sample per run, masked turns without loss"):
        # Each sample once per pass: a repeat within the first pass would already be seen.
        manifest = dataset_stage(
            connection, ruleset_version, trajectory_ids, as_json, MAX_SAMPLE_TOKENS, 1
        )
    with stages.stage("train", f"{PASSES} passes of {base_model}, one sample per step"):
        trained = trained_or_exit(
            manifest["dataset_id"], base_model, recipe, None, Console(stderr=True, quiet=as_json)
        )
        if trained is None:  # only a distributed run has other processes, and this is not one
            raise typer.Exit(1)
        saved, _ = trained
        state = json.loads((saved.directory / TRAINER_STATE_FILE).read_text())
        losses = [entry["loss"] for entry in state["log_history"] if "loss" in entry]
        loss = check_losses(losses, PASSES, LOSS_DROP)
    with stages.stage("evaluate", f"the checkpoint on held-out {HELD_OUT_TASK}"):
        checkpoint_id = saved.body.checkpoint_id
        score = eval_stage(connection, checkpoint_id, EVAL_VARIANT, as_json)
        checks = prompt_checks(score.evaluation_trajectory_id) or []
    matching = sum(check.matches for check in checks)
    prompts_verify = bool(checks) and matching == len(checks)
    result = {
        "passed": loss.passed and prompts_verify,
        "loss": asdict(loss),
        "losses": losses,
        "loss_drop_required": LOSS_DROP,
        "samples": manifest["counts"].get("react_samples", 0),
        "steps": len(losses),
        "dataset_id": manifest["dataset_id"],
        "checkpoint_id": checkpoint_id,
        "evaluation_trajectory_id": score.evaluation_trajectory_id,
        "prompts": {"actions": len(checks), "matching": matching},
        "stage_seconds": stages.seconds,
    }
    if not as_json:
        _print_outcome(result)
    typer.echo(json.dumps(result))
    if not result["passed"]:
        raise typer.Exit(1)


def _print_outcome(result: dict) -> None:
    loss = result["loss"]
    verdict = "[green]fell[/green]" if loss["passed"] else "[red]did not fall enough[/red]"
    console.print(
        f"loss {verdict}: {loss['first_pass']:.3f} over the first pass, {loss['last_pass']:.3f} "
        f"over the last ({result['samples']} samples, {result['steps']} steps; at least "
        f"{result['loss_drop_required']:.0%} lower required)"
    )
    prompts = result["prompts"]
    console.print(
        f"held-out run {result['evaluation_trajectory_id']}: {prompts['matching']} of "
        f"{prompts['actions']} prompts verify"
    )
