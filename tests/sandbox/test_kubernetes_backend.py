"""The Kubernetes backend against a fake CoreV1Api: the pod it asks for and its lifecycle."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

pytest.importorskip("kubernetes")

from kubernetes.client.exceptions import ApiException
from local_kubelet import direct

from services.sandbox.backend import SandboxSpec, SandboxUnavailable
from services.sandbox.kubernetes import KubernetesBackend, pod_name, shell_command
from services.sandbox.limits import GIB, ResourceLimits
from services.sandbox.sessions import Session

pytestmark = pytest.mark.timeout(30)


class FakeExec:
    """An exec websocket whose 'shell' answers Session's end marker with exit code 0."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.stdin: list[bytes] = []
        self.pending = [b"__APOLLO_SHELL_PID=4242\n"]
        self.open = True

    def readline_stdout(self, timeout: float) -> bytes:
        return self.pending.pop(0)

    def write_stdin(self, data: bytes) -> None:
        self.stdin.append(data)
        # Session ends each command line with: printf '…DONE_%s_%d…' NONCE $?
        nonce = data.split(b"__APOLLO_DONE_%s_%d__")[1].split()[1]
        self.pending.append(b"hello from the pod\n\n__APOLLO_DONE_" + nonce + b"_0__\n")

    def is_open(self) -> bool:
        return self.open

    def update(self, timeout: float) -> None:
        if not self.pending:
            time.sleep(0.01)  # as a real websocket would wait for a frame

    def read_stdout(self, timeout: float) -> bytes:
        return self.pending.pop(0) if self.pending else b""

    def read_stderr(self, timeout: float) -> bytes:
        return b""

    def close(self) -> None:
        self.open = False


class FakeCoreV1Api:
    """The CoreV1Api methods the backend calls, recording what it asked for."""

    def __init__(self, phases: list[str]) -> None:
        self.created: list = []
        self.deleted: list[tuple[str, str]] = []
        self.execs: list[FakeExec] = []
        self._phases = phases

    def create_namespaced_pod(self, namespace: str, body) -> None:
        if any(p.metadata.name == body.metadata.name for _, p in self.created):
            raise ApiException(status=409, reason="AlreadyExists")
        self.created.append((namespace, body))

    def read_namespaced_pod(self, name: str, namespace: str):
        phase = self._phases.pop(0) if len(self._phases) > 1 else self._phases[0]
        return type("Pod", (), {"status": type("Status", (), {"phase": phase})})

    def delete_namespaced_pod(self, name: str, namespace: str, grace_period_seconds: int) -> None:
        if (namespace, name) in self.deleted:
            raise ApiException(status=404, reason="NotFound")
        self.deleted.append((namespace, name))

    def connect_get_namespaced_pod_exec(self, name: str, namespace: str, **kwargs) -> FakeExec:
        ws = FakeExec(kwargs["command"])
        self.execs.append(ws)
        return ws


CLAIM = "apollo-workspaces"


@pytest.fixture
def spec(tmp_path: Path) -> SandboxSpec:
    return SandboxSpec("Traj_1.x", tmp_path / "root" / "ws", ResourceLimits(memory_bytes=2 * GIB))


def backend_for(api, spec: SandboxSpec, image: str = "img") -> KubernetesBackend:
    """A backend whose shared workspace root is the parent of `spec`'s workspace."""
    root = spec.workspace.parent
    return KubernetesBackend(api, "sandboxes", image, CLAIM, root, exec_stream=direct)


async def test_the_pod_is_locked_down_and_sized_by_the_task(spec: SandboxSpec) -> None:
    api = FakeCoreV1Api(["Pending", "Running"])
    backend = backend_for(api, spec, "python:3.11-slim")
    await backend.prepare(spec)
    [(namespace, pod)] = api.created
    assert namespace == "sandboxes"
    assert pod.metadata.name == pod_name("Traj_1.x")
    assert pod.metadata.name.startswith("apollo-sbx-traj-1-x-")
    assert pod.metadata.labels["app.kubernetes.io/name"] == "apollo-sandbox"
    assert pod.metadata.annotations["apollo.dev/trajectory-id"] == "Traj_1.x"
    assert pod.spec.automount_service_account_token is False
    assert pod.spec.enable_service_links is False
    assert pod.spec.host_network is False
    assert pod.spec.host_pid is False
    assert pod.spec.host_ipc is False
    assert pod.spec.security_context.run_as_non_root
    assert pod.spec.security_context.run_as_user == 1000
    assert pod.spec.security_context.seccomp_profile.type == "RuntimeDefault"
    [container] = pod.spec.containers
    assert container.image == "python:3.11-slim"
    assert container.resources.limits["memory"] == "2048Mi"
    security = container.security_context
    assert security.allow_privilege_escalation is False
    assert security.read_only_root_filesystem
    assert security.capabilities.drop == ["ALL"]
    volumes = {v.name: v for v in pod.spec.volumes}
    assert volumes["workspace"].persistent_volume_claim.claim_name == CLAIM
    assert volumes["tmp"].empty_dir.medium == "Memory"
    mounts = {m.mount_path: m for m in container.volume_mounts}
    assert mounts.keys() == {"/workspace", "/tmp"}
    assert mounts["/workspace"].sub_path == "ws"  # its own directory of the shared claim
    assert {e.name for e in container.env} == {
        "PATH", "HOME", "LANG", "TERM", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE",
    }  # fmt: skip


async def test_a_session_runs_over_exec_and_release_deletes_the_pod(spec: SandboxSpec) -> None:
    api = FakeCoreV1Api(["Running"])
    backend = backend_for(api, spec)
    await backend.prepare(spec)
    await backend.prepare(spec)  # a restarted service finds its pod (409) and reuses it
    session = Session("session_1", spec, backend)
    run, restarted = await session.start("echo hi")
    try:
        await asyncio.wait_for(run.done.wait(), 5)
    finally:
        if not run.done.is_set():
            api.execs[0].close()  # else its reader thread would outlive the test
    assert restarted
    assert run.exit_code == 0
    assert run.output.text() == "hello from the pod\n"
    shell = api.execs[0]
    assert shell.command == shell_command(spec.limits)
    assert "--fsize=1073741824" in shell.command
    assert not any(arg.startswith("--nproc") for arg in shell.command)  # per node, not per pod
    assert await session.kill() is False
    assert api.execs[1].command == ["/bin/bash", "-c", "kill -KILL -- -4242"]
    assert not shell.open
    await backend.release(spec)
    await backend.release(spec)  # already gone is fine
    assert api.deleted == [("sandboxes", pod_name("Traj_1.x"))]


async def test_a_pod_that_fails_to_start_is_reported(spec: SandboxSpec) -> None:
    api = FakeCoreV1Api(["Pending", "Failed"])
    backend = backend_for(api, spec)
    with pytest.raises(SandboxUnavailable, match="Failed"):
        await backend.prepare(spec)


async def test_a_workspace_outside_the_shared_root_is_refused(spec: SandboxSpec) -> None:
    api = FakeCoreV1Api(["Running"])
    backend = KubernetesBackend(api, "sandboxes", "img", CLAIM, spec.workspace.parent / "other")
    with pytest.raises(SandboxUnavailable, match="not under the shared workspace root"):
        await backend.prepare(spec)
    assert api.created == []


def test_the_backend_needs_a_workspace_claim(spec: SandboxSpec) -> None:
    with pytest.raises(SandboxUnavailable, match="APOLLO_SANDBOX_K8S_WORKSPACE_CLAIM"):
        KubernetesBackend(FakeCoreV1Api(["Running"]), "sandboxes", "img", "", spec.workspace)
