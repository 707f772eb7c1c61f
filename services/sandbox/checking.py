"""Running a task's reference solution (or nothing) in a fresh sandbox, for calibration."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from apollo.v1 import events_pb2 as pb
from services.eventlog.blobs import InMemoryBlobStore
from services.eventlog.events import new_event
from services.sandbox.actions import run_action
from services.sandbox.backend import SandboxBackend
from services.sandbox.ledger import InMemoryExecutionLedger, TrajectoryRecord
from services.sandbox.registry import Runtimes
from services.tasks.families import is_heldout
from services.tasks.packs import TaskCatalog, ToolCallSpec


def _action(trajectory_id: str, step: int, call: ToolCallSpec) -> pb.Event:
    body = pb.ActionProposed(
        step_index=step,
        tool_call=pb.ToolCall(
            call_id=f"call-{step}", name=call.tool, arguments_json=json.dumps(call.arguments)
        ),
    )
    return new_event(body, trajectory_id=trajectory_id, service="checker")


async def check_task(
    catalog: TaskCatalog,
    task_id: str,
    backend: SandboxBackend,
    *,
    seed: int = 0,
    baseline: bool = False,
    workspace_root: Path | None = None,
) -> dict:
    """Run the reference (or, as the baseline, finish at once) on the instance of `seed`;
    return the final score.

    The scratch workspace goes under `workspace_root` when the backend needs it there (the
    kubernetes backend's shared claim), else in the system's temporary directory."""
    pack = catalog.get(task_id)
    calls = [ToolCallSpec(tool="finish")] if baseline else pack.reference()
    with tempfile.TemporaryDirectory(prefix="apollo-check-", dir=workspace_root) as scratch:
        runtimes = Runtimes(catalog, backend, InMemoryExecutionLedger(), Path(scratch))
        budgets = pack.manifest.budgets
        record = TrajectoryRecord(
            f"check-{task_id}-{seed}{'-baseline' if baseline else ''}", task_id, budgets.steps,
            int(budgets.hours * 3600), budgets.evals, time.time(), task_seed=seed,
        )  # fmt: skip
        runtime = await runtimes.open(record)
        observations: list[dict] = []
        ended: pb.TrajectoryEnded | None = None
        started = time.monotonic()
        for step, call in enumerate(calls):
            for event in await run_action(
                _action(record.trajectory_id, step, call), runtime, InMemoryBlobStore()
            ):
                if event.HasField("observation_recorded"):
                    observations.append(json.loads(event.observation_recorded.observation_json))
                if event.HasField("trajectory_ended"):
                    ended = event.trajectory_ended
            if ended is not None:
                break
        await runtimes.close(record.trajectory_id)
    failed = [o for o in observations if not o.get("success")]
    return {
        "id": task_id,
        "seed": seed,
        "heldout": is_heldout(seed),
        "baseline": baseline,
        "score": ended.final_score if ended and ended.HasField("final_score") else None,
        "best_score": ended.best_score if ended and ended.HasField("best_score") else None,
        "steps": len(observations),
        "failed_steps": [o.get("error_message") for o in failed],
        "seconds": round(time.monotonic() - started, 1),
    }
