"""`apollo run` starts a trajectory on a task; `apollo trajectory verify` re-renders its prompts."""

from __future__ import annotations

import asyncio
import contextlib
import json

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from apollo.v1 import control_pb2 as cpb
from apollo.v1 import events_pb2 as pb
from services.cli.connection import archived_records, connection_or_exit, running_stack
from services.cli.gateway_commands import add_account, start_through_gateway
from services.cli.settings import CliSettings
from services.cli.simulated_annotator import SimulatedAnnotator, hints_of
from services.cli.stack.home import ApolloHome
from services.eventlog.bus import KafkaBus
from services.eventlog.tail import tail_trajectory
from services.gateway.users import Role
from services.llm.backend_pool import spec_string
from services.tasks.families import MAX_SEED, SPLIT_RULE
from services.tasks.packs import TaskCatalog, TaskPack, TaskPackError
from services.tasks.starting import (
    DEFAULT_SUMMARY_THRESHOLD,
    POLICY_SPECS,
    BadPolicy,
    started_event,
)
from services.tasks.teacher import TEACHER_BACKEND, BadTeacher, TeacherConfig, deviations
from services.tasks.teacher_mistakes import Mistake
from services.trajectory import Trajectory, apply, fold
from services.trajectory.digest_check import DigestCheck, check_digests

console = Console(stderr=True)
trajectory_app = typer.Typer(help="Inspect recorded trajectories.", no_args_is_help=True)


def outcome(state: Trajectory) -> dict:
    """The final line of `apollo run --wait`."""
    delivered = set(state.delivered_guidance_ids)
    policy = state.started.trajectory_started.policy if state.started else None
    result = {
        "trajectory_id": state.trajectory_id,
        "policy": spec_string(policy) if policy else "",
        "status": state.status.value,
        "steps": len(state.steps),
        "score": state.final_score if state.final_score is not None else state.best_score,
        "summaries": len(state.summaries),
        "guidance_submitted": len(state.guidance),
        "guidance_delivered": len([g for g in state.guidance if g.event_id in delivered]),
    }
    if policy is not None and policy.backend == TEACHER_BACKEND:
        # What it got wrong on purpose, by step: the ground truth to measure the judge by.
        try:
            made = deviations(state)
        except BadTeacher as error:
            result["teacher_deviations_error"] = str(error)
        else:
            result["teacher_deviations"] = {str(step): kind.value for step, kind in made.items()}
    return result


async def follow_trajectory(
    kafka: str, trajectory_id: str, progress: Progress | None
) -> Trajectory:
    """Fold the trajectory's events from the log until it ends (a line of `progress` on the way)."""
    state = Trajectory(trajectory_id=trajectory_id)
    over = asyncio.Event()
    task_id = progress.add_task("starting", total=None) if progress else None

    def on_event(event: pb.Event) -> None:
        nonlocal state
        state = apply(state, event)
        if progress is not None:
            progress.update(task_id, description=_progress_line(state))
        if state.is_over:
            over.set()

    follower = asyncio.create_task(tail_trajectory(kafka, trajectory_id, on_event))
    try:
        await over.wait()
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        if progress is not None:
            progress.remove_task(task_id)
    return state


def _progress_line(state: Trajectory) -> str:
    last = state.steps[-1].tool_name or "null action" if state.steps else "waiting"
    return (
        f"step {len(state.steps)} ({last}); summaries {len(state.summaries)}; "
        f"guidance {len(state.delivered_guidance_ids)}/{len(state.guidance)}"
    )


async def follow_steered(
    kafka: str,
    trajectory_id: str,
    progress: Progress | None,
    annotator: SimulatedAnnotator | None,
) -> Trajectory:
    """`follow_trajectory` while `annotator` (if any) steers the trajectory."""
    watching = asyncio.create_task(annotator.run()) if annotator else None
    try:
        return await follow_trajectory(kafka, trajectory_id, progress)
    finally:
        if watching is not None:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching


async def _follow_to_end(
    kafka: str, trajectory_id: str, quiet: bool, annotator: SimulatedAnnotator | None
) -> dict:
    if quiet:
        return outcome(await follow_steered(kafka, trajectory_id, None, annotator))
    columns = (SpinnerColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=console, transient=True) as progress:
        return outcome(await follow_steered(kafka, trajectory_id, progress, annotator))


def _simulated_annotator(pack: TaskPack, trajectory_id: str) -> SimulatedAnnotator:
    stack = running_stack(ApolloHome.resolve())
    if stack is None or not stack.gateway_url:
        raise typer.BadParameter(
            "the simulated annotator needs a running stack with a gateway", param_hint="--annotator"
        )
    token = asyncio.run(add_account(stack.postgres_dsn, None, Role.ANNOTATOR))
    hints = hints_of(pack.root / "hints.md")
    return SimulatedAnnotator(stack.gateway_url, token, trajectory_id, hints)


def run(
    task: str = typer.Option(..., "--task", help="Task pack id (see `apollo tasks`)."),
    seed: int = typer.Option(
        0, min=0, max=MAX_SEED, help=f"The task family's instance ({SPLIT_RULE})."
    ),
    policy: str = typer.Option("local", help=f"{POLICY_SPECS}."),
    max_steps: int | None = typer.Option(None, min=1, help="Step budget (default: the task's)."),
    summary_threshold: int = typer.Option(
        DEFAULT_SUMMARY_THRESHOLD, min=1, help="Summarize when the prompt reaches this many tokens."
    ),
    wait: bool = typer.Option(False, help="Wait for the end and print its outcome."),
    annotator: str = typer.Option(
        "none", help="'simulated': send the task's hints when drift signals fire (needs --wait)."
    ),
    teacher_rate: float = typer.Option(
        0.2, min=0.0, max=1.0, help="teacher:simulated: chance of a mistake before each step."
    ),
    teacher_seed: int = typer.Option(0, help="teacher:simulated: the seed of its mistakes."),
    teacher_mistakes: str = typer.Option(
        "",
        help=f"teacher:simulated: the mistakes it may make, comma-separated, of "
        f"{', '.join(Mistake)} (default: all).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """Start a trajectory; print its id, or with --wait how it ended."""
    try:
        pack = TaskCatalog().get(task)
    except TaskPackError as error:
        raise typer.BadParameter(str(error), param_hint="--task") from error
    if annotator not in ("none", "simulated"):
        raise typer.BadParameter("use none or simulated", param_hint="--annotator")
    labels = (
        _teacher_labels(teacher_rate, teacher_seed, teacher_mistakes)
        if policy.partition(":")[0] == TEACHER_BACKEND
        else {}
    )
    if CliSettings().token:
        # An annotator's (admin's) start goes through the gateway, which records who started it.
        request = cpb.StartTrajectoryRequest(
            task_id=task,
            policy=policy,
            budgets=pb.Budgets(max_steps=max_steps or 0),
            summary_threshold_tokens=summary_threshold,
            labels=labels,
            task_seed=seed,
        )
        trajectory_id = start_through_gateway(request)
    else:
        trajectory_id = _publish_start(pack, seed, policy, max_steps, summary_threshold, labels)
    if not as_json and not wait:
        console.print(f"started {task} seed {seed} with {policy}")
    if not wait:
        typer.echo(json.dumps({"trajectory_id": trajectory_id}) if as_json else trajectory_id)
        return
    typer.echo(json.dumps(follow_run(pack, trajectory_id, as_json, annotator == "simulated")))


def _teacher_labels(rate: float, seed: int, mistakes: str) -> dict[str, str]:
    try:
        named = [Mistake(name.strip()) for name in mistakes.split(",") if name.strip()]
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--teacher-mistakes") from error
    config = TeacherConfig(seed, rate, frozenset(named or Mistake))
    return config.labels()


def _publish_start(
    pack: TaskPack,
    seed: int,
    policy: str,
    max_steps: int | None,
    threshold: int,
    labels: dict[str, str],
) -> str:
    """The stack operator's start: TrajectoryStarted straight onto the log; its id."""
    try:
        started = started_event(
            pack,
            policy,
            started_by="cli",
            service="cli",
            budgets=pb.Budgets(max_steps=max_steps or 0),
            summary_threshold=threshold,
            labels=labels,
            seed=seed,
        )
    except BadPolicy as error:
        raise typer.BadParameter(str(error), param_hint="--policy") from error
    publish_start(started)
    return started.trajectory_id


def publish_start(started: pb.Event) -> None:
    """Publish a TrajectoryStarted to the running stack's log."""
    asyncio.run(_publish(connection_or_exit().kafka, started))


async def _publish(kafka: str, started: pb.Event) -> None:
    async with KafkaBus(kafka, client_id="apollo-cli-run") as bus:
        await bus.publish(started)


def follow_run(pack: TaskPack, trajectory_id: str, quiet: bool, simulated_annotator: bool) -> dict:
    """Follow a trajectory to its end (a simulated annotator steering it, if asked): its outcome."""
    connection = connection_or_exit()
    annotator = _simulated_annotator(pack, trajectory_id) if simulated_annotator else None
    return asyncio.run(_follow_to_end(connection.kafka, trajectory_id, quiet, annotator))


def prompt_checks(trajectory_id: str) -> list[DigestCheck] | None:
    """Each archived action's prompt re-rendered and compared with its digest; None when the
    archive has no event of the trajectory."""
    records = asyncio.run(archived_records(connection_or_exit().postgres_dsn, trajectory_id))
    if not records:
        return None
    return check_digests(fold([record.event for record in records], trajectory_id))


@trajectory_app.command()
def verify(
    trajectory_id: str = typer.Argument(..., help="Trajectory id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """Re-render every action's prompt from the archive and compare it with its digest."""
    checks = prompt_checks(trajectory_id)
    if checks is None:
        console.print(f"[red]no archived events for {trajectory_id}[/red]")
        raise typer.Exit(1)
    matching = sum(check.matches for check in checks)
    if not as_json:
        for check in checks:
            if not check.matches:
                console.print(f"step {check.step_index}: {check.error or 'digest differs'}")
    typer.echo(json.dumps({"actions": len(checks), "matching": matching}))
    if matching != len(checks):
        raise typer.Exit(1)
