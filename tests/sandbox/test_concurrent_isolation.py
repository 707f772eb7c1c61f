"""50 trajectories running at once never see each other's workspaces, processes or sessions."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path

import pytest

from services.eventlog.blobs import InMemoryBlobStore
from services.sandbox.actions import run_action

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

TRAJECTORIES = 50


def snoop(secret: str, workspace_root: Path) -> str:
    """Plant a secret, keep it visible in a process's argv, then look for everyone else's."""
    return (
        f"echo {secret} > secret; bash -c 'sleep 2' {secret} & sleep 1; "
        # Other workspaces by their host paths, and whatever the sandbox can list of them.
        f"cat {workspace_root}/*/secret /workspace/../*/secret 2>/dev/null; "
        f"ls {workspace_root} 2>&1; "
        # Other sandboxes' processes and the commands their sessions run.
        "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done; "
        "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'; wait"
    )


async def test_fifty_concurrent_trajectories_stay_isolated(
    open_runtime, act, workspace_root: Path
) -> None:
    secrets_by_id = {f"iso-{i}": f"SECRET{secrets.token_hex(8)}" for i in range(TRAJECTORIES)}
    runtimes = {tid: await open_runtime(tid) for tid in secrets_by_id}
    blobs = InMemoryBlobStore()

    async def run(tid: str) -> dict:
        action = act(tid, 0, "run_command", command=snoop(secrets_by_id[tid], workspace_root))
        events = await run_action(action, runtimes[tid], blobs)
        return json.loads(events[0].observation_recorded.observation_json)

    observations = dict(
        zip(secrets_by_id, await asyncio.gather(*(run(t) for t in secrets_by_id)), strict=True)
    )
    for tid, secret in secrets_by_id.items():
        output = observations[tid]["output"]
        assert observations[tid]["exit_code"] == 0, output
        assert secret in output  # its own process is visible to itself
        foreign = [s for other, s in secrets_by_id.items() if other != tid and s in output]
        assert foreign == [], f"{tid} saw {len(foreign)} other trajectories' secrets"
        session_output = runtimes[tid].sessions.get("session_1").buffer.tail(1_000_000)
        assert [s for s in secrets_by_id.values() if s in session_output] == [secret]
        on_disk = (workspace_root / tid / "secret").read_text()
        assert on_disk == f"{secret}\n"
