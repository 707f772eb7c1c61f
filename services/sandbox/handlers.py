"""The sandbox's handlers: what each trajectory event it consumes makes it do."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from apollo.v1 import events_pb2 as pb
from services.runtime.routing import EventRoutes
from services.sandbox.actions import end_trajectory, ended_with_error, sandbox_event
from services.sandbox.backend import SandboxUnavailable
from services.sandbox.ledger import ActionRecord, ActionState, TrajectoryRecord
from services.sandbox.metrics import DUPLICATES, IGNORED
from services.sandbox.registry import InvalidTrajectoryId, check_trajectory_id
from services.tasks.packs import TaskPackError
from services.trajectory.state import is_imported

if TYPE_CHECKING:
    from services.sandbox.service import SandboxService

log = structlog.get_logger(__name__)


async def trajectory_started(sandbox: SandboxService, event: pb.Event) -> None:
    """Remember the trajectory and open its workspace, or end it when it cannot run here."""
    started = event.trajectory_started
    if is_imported(started):
        IGNORED.inc()
        log.info("not running an imported trajectory", trajectory_id=event.trajectory_id)
        return
    known = await sandbox.ledger.trajectory(event.trajectory_id)
    if known is not None and known.ended:
        return  # a re-delivered start of a finished trajectory
    if known is None and await sandbox.history.has_ended(event.trajectory_id):
        # Imported or replayed history: its actions were observed long ago, elsewhere.
        IGNORED.inc()
        log.info(
            "not running a trajectory the archive shows ended", trajectory_id=event.trajectory_id
        )
        return
    try:
        check_trajectory_id(event.trajectory_id)
        pack = sandbox.runtimes.catalog.get(started.task_id)
    except (InvalidTrajectoryId, TaskPackError) as error:
        await sandbox.publish([ended_with_error(event, str(error))])
        return
    budgets = pack.manifest.budgets
    record = TrajectoryRecord(
        trajectory_id=event.trajectory_id,
        task_id=started.task_id,
        max_steps=started.budgets.max_steps or budgets.steps,
        max_seconds=started.budgets.max_seconds or int(budgets.hours * 3600),
        max_evals=started.budgets.max_evals or budgets.evals,
        started_at=event.occurred_at.ToMicroseconds() / 1e6,
        task_seed=started.task_seed,
    )
    await sandbox.ledger.remember_trajectory(record)
    try:
        await sandbox.runtimes.open(record)
    except (SandboxUnavailable, TaskPackError) as error:
        await sandbox.ledger.mark_ended(event.trajectory_id)
        await sandbox.publish([ended_with_error(event, f"the environment failed: {error}")])


async def action_proposed(sandbox: SandboxService, event: pb.Event) -> None:
    """Record the action as started, at most once, and run it off the bus handler."""
    if not await sandbox.serves(event):
        return
    action = event.action_proposed
    fresh = await sandbox.ledger.start(
        ActionRecord(
            action_id=event.event_id,
            trajectory_id=event.trajectory_id,
            step_index=action.step_index,
            tool=action.tool_call.name,
            state=ActionState.STARTED,
        )
    )
    if not fresh:
        DUPLICATES.inc()
        known = await sandbox.ledger.get(event.event_id)
        # Completed but unpublished, and no longer in flight here: its publish was lost.
        if known.state is ActionState.COMPLETED and not sandbox.is_running(event.event_id):
            await sandbox.publish_recorded(known)
        return
    # Run outside the bus handler: a 30-minute sleep must not hold up other trajectories.
    sandbox.spawn(event.event_id, sandbox.execute(event))


async def guidance_submitted(sandbox: SandboxService, event: pb.Event) -> None:
    """Guidance arrived for a trajectory running here: wake its sleep."""
    runtime = sandbox.runtimes.live(event.trajectory_id)
    if runtime is not None:
        runtime.note_guidance(event.event_id)


async def trajectory_cancelled(sandbox: SandboxService, event: pb.Event) -> None:
    """End a trajectory running here once its current action is done."""
    if await sandbox.serves(event):
        # A cancel waits for the running action (a sleep may take 30 minutes): off the
        # bus handler, so other trajectories keep flowing.
        sandbox.spawn(f"cancel:{event.event_id}", _cancel(sandbox, event))


async def _cancel(sandbox: SandboxService, event: pb.Event) -> None:
    runtime = await sandbox.runtimes.get(event.trajectory_id)
    if runtime is None:
        return
    async with runtime.lock:
        if runtime.ended:
            return
        ended = await end_trajectory(runtime, pb.END_REASON_CANCELLED, 0)
    ended.detail = event.trajectory_cancelled.reason
    await sandbox.publish([sandbox_event(ended, event)])
    await sandbox.runtimes.close(event.trajectory_id)


ROUTES: EventRoutes[SandboxService] = EventRoutes(
    {
        "trajectory_started": trajectory_started,
        "action_proposed": action_proposed,
        "guidance_submitted": guidance_submitted,
        "trajectory_cancelled": trajectory_cancelled,
    }
)
