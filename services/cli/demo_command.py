"""`apollo demo`: the main job on the embedded stack, end to end."""

from __future__ import annotations

import asyncio
import json

import typer
from rich.console import Console

from apollo.v1 import events_pb2 as pb
from services.cli.connection import connection_or_exit
from services.cli.demo_stages import (
    DEMO_RECIPE,
    DEMO_RULESET,
    EVAL_VARIANT,
    HELD_OUT_TASK,
    dataset_stage,
    eval_stage,
    judge_stage,
    reference_stage,
    train_stage,
)
from services.cli.gateway_commands import add_account
from services.cli.run_commands import follow_run, publish_start
from services.cli.stack_commands import stack_with_gateway
from services.cli.stages import Stages
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
# A task whose scripted reference run gives the dataset turns worth training (the tiny model's
# own are mostly masked); neither it nor the demo task is the held-out one.
REFERENCE_TASK = "data-construction-logs"


def _withhold_finish(body: pb.TrajectoryStarted) -> None:
    """SmolLM2-135M cannot solve the task, and offered `finish` it often calls it at once;
    without it the step budget ends the run, leaving time for guidance and summaries."""
    kept = [tool for tool in body.tools if tool.name != "finish"]
    del body.tools[:]
    body.tools.extend(kept)


def demo(as_json: bool = typer.Option(False, "--json", help="Print only the result JSON.")) -> None:
    """The whole loop: the local model runs a built-in task while a simulated annotator steers
    it, then the judge, a dataset, a short training run and a held-out evaluation."""
    stack = stack_with_gateway()
    connection = connection_or_exit()
    token = asyncio.run(add_account(stack.postgres_dsn, None, Role.ADMIN))
    stages = Stages(Console(stderr=True, quiet=as_json), total=6)
    with stages.stage("collect", f"the local model on {DEMO_TASK} for {DEMO_STEPS} steps"):
        result = _guided_run(stack.gateway_url, as_json)
    with stages.stage("reference", f"the scripted reference solution of {REFERENCE_TASK}"):
        reference_id = reference_stage(REFERENCE_TASK, DEMO_SUMMARY_THRESHOLD, as_json)
    trajectory_ids = [result["trajectory_id"], reference_id]
    with stages.stage("judge", f"both trajectories under the shipped `{DEMO_RULESET}` ruleset"):
        ruleset_version, masked = judge_stage(connection, trajectory_ids, as_json)
    with stages.stage("dataset", "one sample per context window, masked turns without loss"):
        manifest = dataset_stage(connection, ruleset_version, trajectory_ids, as_json)
    with stages.stage("train", f"{DEMO_RECIPE.max_steps} masked SFT steps of the local model"):
        checkpoint_id = train_stage(manifest["dataset_id"], Console(stderr=True, quiet=as_json))
    with stages.stage("evaluate", f"the checkpoint on held-out {HELD_OUT_TASK}, no guidance"):
        eval_score = eval_stage(connection, checkpoint_id, EVAL_VARIANT, as_json).final_score
    result.update(
        reference_trajectory_id=reference_id,
        ruleset_version=ruleset_version,
        masked_actions=masked,
        dataset_id=manifest["dataset_id"],
        trained_turns=manifest["counts"]["trained_turns"],
        masked_turns=manifest["counts"]["masked_turns"],
        checkpoint_id=checkpoint_id,
        eval_task=HELD_OUT_TASK,
        eval_score=eval_score,
        stage_seconds=stages.seconds,
        ui_url=stack.gateway_url,
    )
    if not as_json:
        console.print(
            f"{masked} actions masked; dataset {manifest['dataset_id']} trained checkpoint "
            f"{checkpoint_id}, which scored {eval_score:.1f} on {HELD_OUT_TASK}",
            soft_wrap=True,
        )
        console.print(f"UI: {stack.gateway_url}  token (admin): {token}", soft_wrap=True)
        console.print("The stack keeps running; `apollo down` stops it.")
    print(json.dumps(result))


def _guided_run(gateway_url: str, quiet: bool) -> dict:
    """The local model on the demo task, steered by the simulated annotator: its outcome."""
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
    if not quiet:
        console.print(
            f"    watch it live at {gateway_url}/#/trajectories/{started.trajectory_id}",
            soft_wrap=True,
        )
    publish_start(started)
    return follow_run(pack, started.trajectory_id, quiet=quiet, simulated_annotator=True)
