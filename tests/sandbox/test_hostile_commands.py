"""Hostile commands are contained, each with a clear observation, while others keep working."""

from __future__ import annotations

import asyncio
import json
import re
import socket

import pytest
from sandbox_actions import action

from services.eventlog.blobs import InMemoryBlobStore
from services.sandbox.actions import run_action

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def call(rt, step: int, tool: str, **arguments) -> dict:
    events = await run_action(
        action(rt.trajectory_id, step, tool, **arguments), rt, InMemoryBlobStore()
    )
    return json.loads(events[0].observation_recorded.observation_json)


async def run(rt, command: str, step: int = 0, **extra) -> dict:
    return await call(rt, step, "run_command", command=command, **extra)


async def test_no_network_even_to_host_loopback(open_runtime) -> None:
    rt = await open_runtime("net")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        obs = await run(
            rt,
            f"python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), 2)\"; "
            "python3 -c \"import socket; socket.create_connection(('1.1.1.1', 53), 2)\"",
        )
    finally:
        listener.close()
    assert obs["output"].count("Error") >= 2  # refused / unreachable
    assert not obs["success"]


async def test_host_secrets_never_reach_the_sandbox(open_runtime, monkeypatch) -> None:
    monkeypatch.setenv("SECRET", "hunter2-api-key")
    rt = await open_runtime("env")
    obs = await run(rt, "env; cat /proc/1/environ /proc/self/environ; echo; ls /proc")
    assert "hunter2" not in obs["output"]
    assert "SECRET" not in obs["output"]


async def test_outside_the_workspace_is_read_only_or_absent(open_runtime) -> None:
    rt = await open_runtime("fs")
    obs = await run(
        rt,
        "touch /usr/x; touch /etc/x; ls /root /home /work; touch /tmp/ok && echo tmp-ok; "
        "touch /workspace/mine && echo ws-ok",
    )
    assert "tmp-ok" in obs["output"]
    assert "ws-ok" in obs["output"]
    assert "Read-only file system" in obs["output"] or "No such file" in obs["output"]
    assert (rt.workspace.root / "mine").exists()


async def test_fork_bomb_is_contained_and_killed(open_runtime) -> None:
    rt = await open_runtime("fork")
    obs = await run(rt, "bomb() { bomb | bomb & }; bomb", timeout=3)
    assert obs["exit_code"] in (0, None)  # the bomb backgrounds itself at once
    await asyncio.sleep(2)
    # RLIMIT_NPROC caps the sandbox's processes (a builtin-only count, since forks fail).
    count = await run(rt, "n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo n=$n", step=1)
    assert int(re.search(r"^n=(\d+)$", count["output"], re.M).group(1)) <= 256 + 5
    # The session still answers; the bomb's own "fork: retry" complaints share its output.
    during = await run(rt, "echo alive", step=2)
    assert "alive" in during["output"].splitlines()
    killed = await call(rt, 3, "kill_session_processes", session=during["session"])
    assert killed["success"], killed
    after = await run(rt, "echo alive; ls -d /proc/[0-9]* | wc -l", step=4)
    lines = after["output"].splitlines()
    assert lines[0] == "alive"
    assert int(lines[1]) <= 5  # bwrap's init, the fresh shell, ls and wc


async def test_memory_bomb_hits_the_memory_limit(open_runtime) -> None:
    rt = await open_runtime("mem")
    obs = await run(rt, "python3 -c 'x = bytearray(8 * 1024**3)'")
    assert "MemoryError" in obs["output"]
    assert obs["exit_code"] == 1


async def test_disk_filling_stops_at_the_file_size_limit(open_runtime) -> None:
    rt = await open_runtime("disk")
    obs = await run(rt, "head -c 2G /dev/zero > big; ls -l big", timeout=10)
    assert "File size limit exceeded" in obs["output"]  # RLIMIT_FSIZE
    assert (rt.workspace.root / "big").stat().st_size <= 1024**3


async def test_endless_output_is_capped(open_runtime, act) -> None:
    rt = await open_runtime("yes")
    events = await run_action(
        act(rt.trajectory_id, 0, "run_command", command="yes", timeout=2),
        rt,
        InMemoryBlobStore(),
    )
    observation = events[0].observation_recorded
    assert observation.truncated
    assert observation.full_output.digest.startswith("sha256:")
    assert len(observation.observation_json) <= 30_000
    assert "killed" in observation.error_message
    # Newlines count twice in JSON; the newest output is kept all the same.
    assert json.loads(observation.observation_json)["output"].count("y\n") > 5_000


async def test_sleeping_forever_is_killed_after_the_blocking_limit(open_runtime) -> None:
    rt = await open_runtime("sleep")
    obs = await run(rt, "sleep infinity", timeout=1)
    assert "did not finish within 1 s" in obs["error_message"]


async def test_killing_the_parent_only_ends_the_session(open_runtime) -> None:
    rt = await open_runtime("kill")
    obs = await run(rt, "kill -9 $$; kill -9 1")
    assert "shell exited" in obs["error_message"]
    assert (await run(rt, "echo back", step=1))["output"] == "back\n"


async def test_proc_shows_only_the_sandbox(open_runtime) -> None:
    rt = await open_runtime("proc")
    obs = await run(rt, "ls /proc | grep -c '^[0-9]'; cat /proc/1/cmdline | tr '\\0' ' '")
    count = int(obs["output"].split()[0])
    assert count < 10  # the host runs far more processes
    assert "python" not in obs["output"]


async def test_a_hostile_trajectory_does_not_stall_another(open_runtime) -> None:
    hostile = await open_runtime("evil")
    calm = await open_runtime("calm")
    bomb = asyncio.create_task(run(hostile, "bomb() { bomb | bomb & }; bomb", timeout=5))
    await asyncio.sleep(0.5)
    started = asyncio.get_running_loop().time()
    obs = await run(calm, "echo fine")
    assert obs["output"] == "fine\n"
    assert asyncio.get_running_loop().time() - started < 3
    await bomb
