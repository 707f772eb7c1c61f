"""The runtimes of the trajectories this process serves, rebuilt from the ledger on demand."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

from services.sandbox.backend import SandboxBackend, SandboxSpec
from services.sandbox.ledger import ExecutionLedger, TrajectoryRecord
from services.sandbox.limits import MIB, ResourceLimits
from services.sandbox.metrics import ACTIVE
from services.sandbox.runtime import RuntimeBudgets, TrajectoryRuntime
from services.sandbox.sessions import Sessions
from services.sandbox.workspace import Workspace, chown_tree
from services.tasks.packs import TaskCatalog

# Trajectory ids become directory names, so only safe characters pass.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class InvalidTrajectoryId(ValueError):
    """A trajectory id that cannot name a workspace directory."""


def check_trajectory_id(trajectory_id: str) -> None:
    """Raise `InvalidTrajectoryId` unless the id can safely name a workspace directory."""
    if not _SAFE_ID.fullmatch(trajectory_id):
        raise InvalidTrajectoryId(
            f"trajectory id {trajectory_id!r} is not usable: use 1-128 letters, digits, '.', "
            "'_' or '-', starting with a letter or digit"
        )


class Runtimes:
    """TrajectoryRuntime by trajectory id; a workspace per trajectory under `workspace_root`."""

    def __init__(
        self,
        catalog: TaskCatalog,
        backend: SandboxBackend,
        ledger: ExecutionLedger,
        workspace_root: Path,
        limits: ResourceLimits | None = None,
    ) -> None:
        self.catalog = catalog
        self._backend = backend
        self._ledger = ledger
        self._root = workspace_root
        self._limits = limits or ResourceLimits()
        self._live: dict[str, TrajectoryRuntime] = {}
        self._opening = asyncio.Lock()

    def live(self, trajectory_id: str) -> TrajectoryRuntime | None:
        """The runtime if it is in memory."""
        return self._live.get(trajectory_id)

    async def get(self, trajectory_id: str) -> TrajectoryRuntime | None:
        """The runtime, rebuilt from the ledger after a restart; None for unknown ones."""
        if trajectory_id in self._live:
            return self._live[trajectory_id]
        record = await self._ledger.trajectory(trajectory_id)
        return await self.open(record) if record else None

    async def open(self, record: TrajectoryRecord) -> TrajectoryRuntime:
        """Create (or reopen) the workspace and runtime of a trajectory."""
        check_trajectory_id(record.trajectory_id)
        async with self._opening:
            if record.trajectory_id in self._live:
                return self._live[record.trajectory_id]
            pack = self.catalog.get(record.task_id)
            instance = pack.instance(record.task_seed)
            root = self._root / record.trajectory_id
            if not root.exists():
                await asyncio.to_thread(instance.write_workspace, root)
            limits = replace(self._limits, memory_bytes=pack.manifest.memory_mib * MIB)
            spec = SandboxSpec(record.trajectory_id, root, limits)
            await self._backend.prepare(spec)
            owner = self._backend.workspace_owner
            if owner is not None:
                await asyncio.to_thread(chown_tree, root, owner)
            scores = await self._ledger.eval_scores(record.trajectory_id)
            runtime = TrajectoryRuntime(
                trajectory_id=record.trajectory_id,
                pack=pack,
                instance=instance,
                workspace=Workspace(root, owner),
                sessions=Sessions(spec, self._backend),
                budgets=RuntimeBudgets(record.max_steps, record.max_seconds, record.max_evals),
                started_at=record.started_at,
                evals_used=len(scores),
                best_score=max(scores, default=None),
                ended=record.ended,
            )
            self._live[record.trajectory_id] = runtime
            ACTIVE.set(len(self._live))
            return runtime

    async def close(self, trajectory_id: str) -> None:
        """Stop a trajectory's sessions, free its sandbox (the pod) and forget its runtime; the
        workspace stays on disk."""
        runtime = self._live.pop(trajectory_id, None)
        ACTIVE.set(len(self._live))
        if runtime is not None:
            await runtime.sessions.close_all()
            await self._backend.release(runtime.sessions.spec)
            await self._ledger.mark_ended(trajectory_id)

    async def close_all(self) -> None:
        """Stop every session of every trajectory (shutdown); none is marked ended."""
        await asyncio.gather(*(rt.sessions.close_all() for rt in self._live.values()))
        self._live.clear()
        ACTIVE.set(0)
