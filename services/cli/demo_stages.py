"""The stages of `apollo demo` after the guided collection: a reference run, judge, dataset,
training, evaluation (`apollo experiment train-check` runs them too).

Each stage calls what its own command calls (`apollo run`, `apollo judge run`, `apollo dataset
build`, `apollo train`, `apollo eval`), sized so the whole loop fits a 2-core machine in minutes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import typer
from rich.console import Console

from apollo.v1 import events_pb2 as pb
from services.cli.connection import Connection, archived_end, archived_records
from services.cli.dataset_commands import built_or_exit
from services.cli.eval_commands import EvaluationRequest, evaluate_checkpoint, evaluation_scores
from services.cli.judge_commands import Limits, rejudge_archive
from services.cli.run_commands import follow_run, publish_start
from services.cli.train_commands import trained_or_exit
from services.judge.rejudge import Selection
from services.judge.ruleset import Ruleset, shipped_ruleset
from services.tasks.packs import TaskCatalog
from services.tasks.starting import started_event
from services.trainer.dataset_build import DatasetBuildConfig
from services.trainer.selection import TrajectorySelection
from services.trainer.tokenization import LOCAL_TOKENIZER
from services.trainer.training_config import TrainingRecipe
from services.trainer.verdict_masks import RulesetMasks

DEMO_RULESET = "default"
# Every demo sample is a window of about 3,000 SmolLM2 tokens (the first prompt alone is about
# 2,800, and the demo summarizes at 3,300); longer ones (a long summarization call) are dropped.
DEMO_MAX_TOKENS = 4096
# A few optimizer steps of one sample each: a 3,000-token step of SmolLM2-135M costs tens of
# seconds on 2 CPU cores. Recomputing activations saves memory the demo does not need.
DEMO_RECIPE = TrainingRecipe(
    max_steps=2, per_device_batch=1, grad_accum=1, save_steps=2, activation_checkpointing=False
)
# The one place the held-out evaluation is chosen: the demo's own task family, on its first
# held-out instance (the default seed of an evaluation; the demo collects on seed 0).
HELD_OUT_TASK = "data-filtering-dedup"
# Steps of the held-out run: enough to score what the checkpoint does, cheap on CPU.
EVAL_STEPS = 2
# The variant label of the evaluation: the demo's data is human-guided and judge-filtered.
EVAL_VARIANT = "human+filter"


def reference_stage(task_id: str, summary_threshold: int, quiet: bool) -> str:
    """The task's scripted reference solution, run and archived as `apollo run --policy
    scripted:reference` does: its trajectory id."""
    pack = TaskCatalog().get(task_id)
    started = started_event(
        pack,
        "scripted:reference",
        started_by="cli",
        service="cli",
        summary_threshold=summary_threshold,
    )
    publish_start(started)
    follow_run(pack, started.trajectory_id, quiet=quiet, simulated_annotator=False)
    return started.trajectory_id


def judge_stage(
    connection: Connection, trajectory_ids: Sequence[str], quiet: bool
) -> tuple[str, int]:
    """Re-judge the trajectories from the archive under the shipped ruleset, as `apollo judge
    run` does: its version, and how many of their actions it masks."""
    return asyncio.run(_judged(connection, shipped_ruleset(DEMO_RULESET), trajectory_ids, quiet))


async def _judged(
    connection: Connection, ruleset: Ruleset, trajectory_ids: Sequence[str], quiet: bool
) -> tuple[str, int]:
    for trajectory_id in trajectory_ids:
        await archived_end(connection.postgres_dsn, trajectory_id)
    selection = Selection(trajectory_ids=tuple(trajectory_ids))
    await rejudge_archive(connection, ruleset, selection, Limits(), quiet=quiet)
    masked = 0
    for trajectory_id in trajectory_ids:
        records = await archived_records(connection.postgres_dsn, trajectory_id)
        masked += len(RulesetMasks.read(ruleset.version, records).masked)
    return ruleset.version, masked


def dataset_stage(
    connection: Connection,
    ruleset_version: str,
    trajectory_ids: Sequence[str],
    quiet: bool,
    max_tokens: int = DEMO_MAX_TOKENS,
    react_upsample: int = DatasetBuildConfig.model_fields["react_upsample"].default,
) -> dict:
    """Build the dataset of the trajectories under the version, as `apollo dataset build` does
    (samples of at most `max_tokens`, each window sample `react_upsample` times): its
    manifest. Exit 1 if it has no turn to train."""
    config = DatasetBuildConfig(
        ruleset_version=ruleset_version,
        selection=TrajectorySelection(trajectory_ids=tuple(trajectory_ids)),
        max_tokens=max_tokens,
        react_upsample=react_upsample,
    )
    manifest = built_or_exit(connection, config, LOCAL_TOKENIZER, quiet).manifest
    if not manifest["counts"]["trained_turns"]:
        Console(stderr=True).print(
            f"[red]dataset {manifest['dataset_id']} has no turn to train: {manifest['counts']}"
            "[/red]"
        )
        raise typer.Exit(1)
    return manifest


def train_stage(dataset_id: str, progress: Console) -> str:
    """A short masked SFT run of the local model on the dataset, as `apollo train` does: the
    checkpoint's id (its CheckpointSaved recorded)."""
    trained = trained_or_exit(dataset_id, "local", DEMO_RECIPE, None, progress)
    if trained is None:  # only a distributed run has other processes, and the demo is not one
        raise typer.Exit(1)
    saved, _ = trained
    return saved.body.checkpoint_id


def eval_stage(
    connection: Connection, checkpoint_id: str, variant: str, quiet: bool
) -> pb.EvaluationScored:
    """One unguided run of the checkpoint on the held-out task, as `apollo eval` does,
    scored under `variant`: its score."""
    request = EvaluationRequest(
        checkpoint_id, (HELD_OUT_TASK,), max_steps=EVAL_STEPS, variant=variant
    )
    evaluated, _ = evaluate_checkpoint(connection, request, quiet=quiet)
    scores = evaluation_scores(connection, evaluated)
    return next(score for score in scores if score.task_id == HELD_OUT_TASK)
