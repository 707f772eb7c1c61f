"""Fixtures of the sandbox tests: a real bubblewrap backend and trajectory runtimes."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_actions import action

from services.sandbox.bubblewrap import BubblewrapBackend
from services.sandbox.ledger import InMemoryExecutionLedger, TrajectoryRecord
from services.sandbox.registry import Runtimes
from services.sandbox.runtime import TrajectoryRuntime
from services.tasks.packs import TaskCatalog


@pytest.fixture
def backend() -> BubblewrapBackend:
    """The local backend; the test is skipped where bubblewrap is missing."""
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
    return BubblewrapBackend()


@pytest.fixture
def workspace_root() -> Iterator[Path]:
    """A workspace root the unprivileged sandbox user can reach (pytest's tmp is 0700)."""
    root = Path(tempfile.mkdtemp(prefix="apollo-sandbox-test-"))
    root.chmod(0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def runtimes(workspace_root: Path, backend: BubblewrapBackend):
    """Runtimes over the built-in tasks."""
    registry = Runtimes(TaskCatalog(), backend, InMemoryExecutionLedger(), workspace_root)
    yield registry
    await registry.close_all()


@pytest.fixture
def open_runtime(runtimes: Runtimes):
    """Open a fresh runtime: `await open_runtime(trajectory_id, task=..., evals=...)`."""

    async def open_(
        trajectory_id: str, task: str = "data-filtering-dedup", evals: int = 3
    ) -> TrajectoryRuntime:
        record = TrajectoryRecord(trajectory_id, task, 50, 3600, evals, time.time())
        return await runtimes.open(record)

    return open_


@pytest.fixture
def act():
    """Build an ActionProposed event: `act(trajectory_id, step, tool, **arguments)`."""
    return action
