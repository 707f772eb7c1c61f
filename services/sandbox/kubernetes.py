"""The Kubernetes sandbox backend: one locked-down pod per trajectory, shells over exec.

Workspaces live on a ReadWriteMany PersistentVolumeClaim that the sandbox service mounts at
its workspace root; each pod mounts its own trajectory's directory of that claim (subPath) at
/workspace, so the pack's files, the file tools and the hidden grader see what the pod's
commands wrote, with nothing to copy.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.stream import stream

from services.sandbox.backend import SandboxSpec, SandboxUnavailable
from services.sandbox.limits import MIB, SANDBOX_ENV, WORKSPACE_MOUNT, ResourceLimits

CONTAINER = "sandbox"
# The uid the agent runs as inside the pod (never root).
SANDBOX_UID = 1000
WORKSPACE_CLAIM_SETTING = "APOLLO_SANDBOX_K8S_WORKSPACE_CLAIM"
_PID_LINE = re.compile(rb"__APOLLO_SHELL_PID=(\d+)")
_POLL_S = 0.5

ExecStream = Callable[..., Any]


def pod_name(trajectory_id: str) -> str:
    """A DNS-1123 pod name for a trajectory id (ids may hold '_', '.' and capitals)."""
    slug = re.sub(r"[^a-z0-9-]", "-", trajectory_id.lower()).strip("-")[:40]
    digest = hashlib.sha256(trajectory_id.encode()).hexdigest()[:10]
    return f"apollo-sbx-{slug}-{digest}" if slug else f"apollo-sbx-{digest}"


def shell_command(limits: ResourceLimits) -> list[str]:
    """A session's shell: its own process group (setsid), so one `kill -- -PGID` ends its
    background jobs too, and that group id on the first line. The per-process rlimits apply
    as in the local backend, except the process count: RLIMIT_NPROC counts per uid across a
    node, so the cluster caps processes with `podPidsLimit` instead."""
    rlimits = [a for a in limits.prlimit_args() if not a.startswith(("--nproc=", "--as="))]
    inner = "echo __APOLLO_SHELL_PID=$$; exec /bin/bash --noprofile --norc"
    return ["setsid", "-w", "prlimit", *rlimits, "/bin/bash", "--noprofile", "--norc", "-c", inner]


def pod_manifest(spec: SandboxSpec, image: str, claim: str, sub_path: str) -> client.V1Pod:
    """The pod of one trajectory: no token, no host namespaces, no privileges, capped, with
    its workspace directory `sub_path` of the shared claim at /workspace."""
    limits = spec.limits
    name = pod_name(spec.trajectory_id)
    resources = {"memory": f"{limits.memory_bytes // MIB}Mi", "cpu": "2"}
    container = client.V1Container(
        name=CONTAINER,
        image=image,
        command=["sleep", "infinity"],
        working_dir=WORKSPACE_MOUNT,
        env=[client.V1EnvVar(name=k, value=v) for k, v in SANDBOX_ENV.items()],
        resources=client.V1ResourceRequirements(limits=resources, requests={"cpu": "250m"}),
        security_context=client.V1SecurityContext(
            allow_privilege_escalation=False,
            privileged=False,
            read_only_root_filesystem=True,
            run_as_non_root=True,
            capabilities=client.V1Capabilities(drop=["ALL"]),
        ),
        volume_mounts=[
            client.V1VolumeMount(name="workspace", mount_path=WORKSPACE_MOUNT, sub_path=sub_path),
            client.V1VolumeMount(name="tmp", mount_path="/tmp"),
        ],
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(
            name=name,
            labels={
                "app.kubernetes.io/name": "apollo-sandbox",
                "app.kubernetes.io/managed-by": "apollo-sandbox-service",
                "apollo.dev/sandbox": name,
            },
            annotations={"apollo.dev/trajectory-id": spec.trajectory_id},
        ),
        spec=client.V1PodSpec(
            containers=[container],
            automount_service_account_token=False,
            enable_service_links=False,
            host_network=False,
            host_pid=False,
            host_ipc=False,
            restart_policy="Never",
            termination_grace_period_seconds=0,
            security_context=client.V1PodSecurityContext(
                run_as_non_root=True,
                run_as_user=SANDBOX_UID,
                run_as_group=SANDBOX_UID,
                fs_group=SANDBOX_UID,
                seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault"),
            ),
            volumes=[
                client.V1Volume(
                    name="workspace",
                    persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(
                        claim_name=claim
                    ),
                ),
                client.V1Volume(
                    name="tmp",
                    empty_dir=client.V1EmptyDirVolumeSource(
                        medium="Memory", size_limit=str(limits.tmp_bytes)
                    ),
                ),
            ],
        ),
    )


class KubernetesShell:
    """A bash exec'd into the trajectory's pod, read and written over the exec websocket."""

    def __init__(self, ws: Any, pgid: int, kill_group: Callable[[int], None]) -> None:
        self._ws = ws
        self._pgid = pgid
        self._kill_group = kill_group

    @property
    def alive(self) -> bool:
        """Whether the exec stream is still open."""
        return self._ws.is_open()

    async def write(self, data: bytes) -> None:
        """Send bytes to the shell's stdin (dropped once the stream is closed)."""
        if self._ws.is_open():
            await asyncio.to_thread(self._ws.write_stdin, data)

    async def read(self) -> bytes:
        """The next chunk of stdout+stderr; b"" once the stream is closed and drained."""
        return await asyncio.to_thread(self._read_blocking)

    def _read_blocking(self) -> bytes:
        while True:
            open_before = self._ws.is_open()
            self._ws.update(timeout=_POLL_S)
            data = self._ws.read_stdout(timeout=0) + self._ws.read_stderr(timeout=0)
            if data or not open_before:
                return data

    async def kill(self) -> None:
        """Kill the shell's process group in the pod, then close the stream."""
        if self._ws.is_open():
            await asyncio.to_thread(self._kill_group, self._pgid)
        self._ws.close()


class KubernetesBackend:
    """Sandboxes as pods in one namespace, through the official `kubernetes` client."""

    def __init__(
        self,
        api: client.CoreV1Api,
        namespace: str,
        image: str,
        workspace_claim: str,
        workspace_root: Path,
        *,
        exec_stream: ExecStream = stream,
        ready_timeout_s: float = 180.0,
    ) -> None:
        if not workspace_claim:
            raise SandboxUnavailable(
                f"the kubernetes backend needs {WORKSPACE_CLAIM_SETTING}: a ReadWriteMany "
                "PersistentVolumeClaim in the sandboxes' namespace, mounted by the sandbox "
                "service at its workspace root"
            )
        self._api = api
        self._namespace = namespace
        self._image = image
        self._claim = workspace_claim
        self._root = workspace_root.resolve()
        # `stream` speaks websocket to a real API server; tests pass a stand-in.
        self._stream = exec_stream
        self._ready_timeout_s = ready_timeout_s

    @property
    def workspace_owner(self) -> int | None:
        """The pods' uid, which must own workspace files when the service runs as root."""
        return SANDBOX_UID if os.geteuid() == 0 else None

    @classmethod
    def from_environment(
        cls, namespace: str, image: str, workspace_claim: str, workspace_root: Path
    ) -> KubernetesBackend:
        """Use the in-cluster service account, or ~/.kube/config outside a cluster."""
        try:
            config.load_incluster_config()
        except ConfigException:
            try:
                config.load_kube_config()
            except (ConfigException, OSError) as error:
                raise SandboxUnavailable(f"no Kubernetes configuration found: {error}") from error
        return cls(client.CoreV1Api(), namespace, image, workspace_claim, workspace_root)

    def _sub_path(self, spec: SandboxSpec) -> str:
        """The workspace's directory within the claim."""
        try:
            return spec.workspace.resolve().relative_to(self._root).as_posix()
        except ValueError:
            raise SandboxUnavailable(
                f"workspace {spec.workspace} is not under the shared workspace root "
                f"{self._root}, so no pod could mount it"
            ) from None

    async def prepare(self, spec: SandboxSpec) -> None:
        """Create the trajectory's pod (kept if it exists) and wait until it runs."""
        sub_path = self._sub_path(spec)
        spec.workspace.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self._create_and_wait, spec, sub_path)

    def _create_and_wait(self, spec: SandboxSpec, sub_path: str) -> None:
        name = pod_name(spec.trajectory_id)
        manifest = pod_manifest(spec, self._image, self._claim, sub_path)
        try:
            self._api.create_namespaced_pod(self._namespace, manifest)
        except ApiException as error:
            if error.status != 409:  # 409: already there, e.g. after a service restart
                raise SandboxUnavailable(f"cannot create pod {name}: {error.reason}") from error
        deadline = time.monotonic() + self._ready_timeout_s
        while True:
            phase = self._api.read_namespaced_pod(name, self._namespace).status.phase
            if phase == "Running":
                return
            if phase in ("Failed", "Succeeded") or time.monotonic() > deadline:
                raise SandboxUnavailable(f"pod {name} is {phase}, not Running")
            time.sleep(1.0)

    async def start_shell(self, spec: SandboxSpec) -> KubernetesShell:
        """A fresh shell in the pod; its process group id comes as its first line."""
        name = pod_name(spec.trajectory_id)
        return await asyncio.to_thread(self._exec_shell, name, shell_command(spec.limits))

    def _exec_shell(self, name: str, command: list[str]) -> KubernetesShell:
        try:
            ws = self._stream(
                self._api.connect_get_namespaced_pod_exec, name, self._namespace,
                container=CONTAINER, command=command, stdin=True, stdout=True, stderr=True,
                tty=False, _preload_content=False, binary=True,
            )  # fmt: skip
        except ApiException as error:
            raise SandboxUnavailable(f"cannot exec in pod {name}: {error.reason}") from error
        match = _PID_LINE.search(ws.readline_stdout(timeout=30) or b"")
        if match is None:
            ws.close()
            raise SandboxUnavailable(
                f"the shell in pod {name} did not start (the image needs bash, setsid, prlimit)"
            )
        return KubernetesShell(ws, int(match.group(1)), lambda pgid: self._kill(name, pgid))

    def _kill(self, name: str, pgid: int) -> None:
        self._stream(
            self._api.connect_get_namespaced_pod_exec, name, self._namespace,
            container=CONTAINER, command=["/bin/bash", "-c", f"kill -KILL -- -{pgid}"],
            stdin=False, stdout=True, stderr=True, tty=False,
        )  # fmt: skip

    async def release(self, spec: SandboxSpec) -> None:
        """Delete the trajectory's pod (gone already is fine)."""
        name = pod_name(spec.trajectory_id)
        try:
            await asyncio.to_thread(
                self._api.delete_namespaced_pod, name, self._namespace, grace_period_seconds=0
            )
        except ApiException as error:
            if error.status != 404:
                raise SandboxUnavailable(f"cannot delete pod {name}: {error.reason}") from error
