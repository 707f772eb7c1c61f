"""A whole task through the kubernetes backend, its pod's commands running on this machine:
the pod sees the pack's workspace, the file tools see what the pod wrote and the other way
round, and the hidden grader scores the result."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

pytest.importorskip("kubernetes")

from local_kubelet import LocalKubelet, direct

from services.sandbox.backend import SandboxSpec
from services.sandbox.checking import check_task
from services.sandbox.kubernetes import KubernetesBackend
from services.sandbox.sessions import Session
from services.tasks.packs import TaskCatalog

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="runs pods with bubblewrap"),
]

CLAIM = "apollo-workspaces"


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """The claim's directory, which the sandbox service mounts as its workspace root."""
    root = tmp_path / "claim"
    root.mkdir()
    return root


async def test_a_task_edited_by_file_tools_and_run_in_the_pod_is_graded(shared: Path) -> None:
    kubelet = LocalKubelet({CLAIM: shared})
    backend = KubernetesBackend(kubelet, "sandboxes", "img", CLAIM, shared, exec_stream=direct)
    # This task's reference runs the script, fixes it with edit_file, runs it again, evals.
    result = await check_task(
        TaskCatalog(), "scaffold-debugging-stats", backend, workspace_root=shared
    )
    assert result["failed_steps"] == []
    assert result["score"] >= 70
    assert kubelet.pods == {}  # the pod was deleted when the check ended


async def test_a_pod_writes_only_its_own_directory_of_the_claim(shared: Path) -> None:
    kubelet = LocalKubelet({CLAIM: shared})
    backend = KubernetesBackend(kubelet, "sandboxes", "img", CLAIM, shared, exec_stream=direct)
    outputs = {}
    for trajectory in ("t-one", "t-two"):
        spec = SandboxSpec(trajectory, shared / trajectory)
        await backend.prepare(spec)
        session = Session("session_1", spec, backend)
        run, _ = await session.start(f"echo {trajectory} > mine.txt; pwd; ls /workspace")
        await asyncio.wait_for(run.done.wait(), 20)
        outputs[trajectory] = run.output.text()
        await session.kill()
        await backend.release(spec)
    assert outputs["t-one"] == "/workspace\nmine.txt\n"
    assert outputs["t-two"] == "/workspace\nmine.txt\n"
    assert (shared / "t-one" / "mine.txt").read_text() == "t-one\n"
    assert (shared / "t-two" / "mine.txt").read_text() == "t-two\n"
