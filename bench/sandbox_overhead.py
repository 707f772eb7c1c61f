"""`python -m bench.sandbox_overhead`: a no-op `run_command "true"` through the sandbox vs a
bare subprocess, and a fresh session (a new bwrap) vs a bare bash start, p50/p99, as JSON lines."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from apollo.v1 import events_pb2 as pb
from bench._report import percentile_lines, print_lines
from services.eventlog.blobs import InMemoryBlobStore
from services.eventlog.events import new_event
from services.sandbox.actions import run_action
from services.sandbox.bubblewrap import BubblewrapBackend
from services.sandbox.ledger import InMemoryExecutionLedger, TrajectoryRecord
from services.sandbox.registry import Runtimes
from services.sandbox.sessions import Session
from services.tasks.packs import TaskCatalog

CALLS = 300
SESSION_STARTS = 60


def _bare() -> list[float]:
    samples = []
    for _ in range(CALLS):
        started = time.perf_counter()
        subprocess.run(["true"], check=True)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _sandboxed(root: Path) -> list[float]:
    catalog = TaskCatalog()
    runtimes = Runtimes(catalog, BubblewrapBackend(), InMemoryExecutionLedger(), root)
    task = catalog.ids()[0]
    rt = await runtimes.open(TrajectoryRecord("bench", task, CALLS + 10, 3600, 0, time.time()))
    blobs = InMemoryBlobStore()
    samples = []
    for step in range(CALLS + 1):
        call = pb.ToolCall(name="run_command", arguments_json='{"command": "true"}')
        event = new_event(
            pb.ActionProposed(step_index=step, tool_call=call), trajectory_id="bench", service="b"
        )
        started = time.perf_counter()
        await run_action(event, rt, blobs)
        if step:  # the first call starts the session's shell
            samples.append((time.perf_counter() - started) * 1000)
    await runtimes.close_all()
    return samples


def _bare_shells() -> list[float]:
    samples = []
    for _ in range(SESSION_STARTS):
        started = time.perf_counter()
        subprocess.run(["/bin/bash", "--noprofile", "--norc", "-c", "true"], check=True)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _fresh_sessions(root: Path) -> list[float]:
    """A new session's first command: a new bwrap sandbox and shell, then `true`."""
    catalog = TaskCatalog()
    runtimes = Runtimes(catalog, BubblewrapBackend(), InMemoryExecutionLedger(), root)
    rt = await runtimes.open(TrajectoryRecord("fresh", catalog.ids()[0], 1, 3600, 0, time.time()))
    samples = []
    for index in range(SESSION_STARTS):
        session = Session(f"bench_{index}", rt.sessions.spec, BubblewrapBackend())
        started = time.perf_counter()
        run, _ = await session.start("true")
        await run.done.wait()
        samples.append((time.perf_counter() - started) * 1000)
        await session.kill()
    await runtimes.close_all()
    return samples


def main() -> None:
    """Print p50 and p99 of each, with the bare baseline and their ratio."""
    root = Path(tempfile.mkdtemp(prefix="apollo-bench-"))
    root.chmod(0o711)
    try:
        sandboxed = asyncio.run(_sandboxed(root))
        fresh = asyncio.run(_fresh_sessions(root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print_lines(percentile_lines("sandbox_overhead", sandboxed, _bare()))
    print_lines(percentile_lines("sandbox_session_start", fresh, _bare_shells()))


if __name__ == "__main__":
    main()
