"""A CoreV1Api stand-in that runs pods on this machine, for the kubernetes backend's tests.

Each exec into a pod is a real process under bubblewrap, given what the pod spec asks for:
the container's environment and working directory, a private /tmp, and its volume mounts,
where a PersistentVolumeClaim is a host directory named by the test (plus the mount's
subPath). There is no PID namespace, so one exec can signal another's process group as in a
real pod. Isolation is not what this checks: test_kubernetes_backend.py checks the spec.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

from kubernetes.client.exceptions import ApiException

_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc")


def direct(method, *args, **kwargs):
    """Stands in for kubernetes.stream.stream, which needs a live API server."""
    return method(*args, **kwargs)


class ProcessExec:
    """The parts of kubernetes.stream's WSClient the backend uses, over a local process."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self._chunks: queue.Queue[bytes | None] = queue.Queue()
        self._buffer = b""
        self._closed = False
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        while chunk := self.process.stdout.read1(65536):
            self._chunks.put(chunk)
        self.process.wait()
        self._chunks.put(None)

    def is_open(self) -> bool:
        return not self._closed

    def update(self, timeout: float) -> None:
        try:
            item = self._chunks.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            if item is None:
                self._closed = True
            else:
                self._buffer += item
            try:
                item = self._chunks.get_nowait()
            except queue.Empty:
                return

    def read_stdout(self, timeout: float = 0) -> bytes:
        data, self._buffer = self._buffer, b""
        return data

    def read_stderr(self, timeout: float = 0) -> bytes:
        return b""  # merged into stdout

    def readline_stdout(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer and self.is_open() and time.monotonic() < deadline:
            self.update(0.05)
        line, newline, rest = self._buffer.partition(b"\n")
        self._buffer = rest
        return line + newline if newline else None

    def write_stdin(self, data: bytes) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def close(self) -> None:
        self._closed = True
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class LocalKubelet:
    """create/read/delete pods and exec into them, with `claims` mapping claim names to the
    host directories that back them."""

    def __init__(self, claims: dict[str, Path]) -> None:
        self.claims = claims
        self.pods: dict[str, object] = {}
        self.execs: list[ProcessExec] = []
        self._bwrap = shutil.which("bwrap")
        if self._bwrap is None:
            raise RuntimeError("the local kubelet runs pods with bubblewrap")

    def create_namespaced_pod(self, namespace: str, body) -> None:
        if body.metadata.name in self.pods:
            raise ApiException(status=409, reason="AlreadyExists")
        self.pods[body.metadata.name] = body

    def read_namespaced_pod(self, name: str, namespace: str):
        status = type("Status", (), {"phase": "Running" if name in self.pods else "Unknown"})
        return type("Pod", (), {"status": status})

    def delete_namespaced_pod(self, name: str, namespace: str, grace_period_seconds: int) -> None:
        if self.pods.pop(name, None) is None:
            raise ApiException(status=404, reason="NotFound")
        for ws in self.execs:
            ws.close()

    def connect_get_namespaced_pod_exec(self, name: str, namespace: str, **kwargs) -> ProcessExec:
        if name not in self.pods:
            raise ApiException(status=404, reason="NotFound")
        argv = self._argv(self.pods[name], kwargs["container"], kwargs["command"])
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if kwargs["stdin"] else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={},
        )
        ws = ProcessExec(process)
        self.execs.append(ws)
        if not kwargs["stdin"]:
            process.wait(timeout=10)  # a one-shot command, e.g. the session kill
        return ws

    def _argv(self, pod, container_name: str, command: list[str]) -> list[str]:
        [container] = [c for c in pod.spec.containers if c.name == container_name]
        volumes = {v.name: v for v in pod.spec.volumes}
        argv = [self._bwrap, "--die-with-parent", "--clearenv", "--dev", "/dev"]
        for path in _SYSTEM:
            if os.path.exists(path):
                argv += ["--ro-bind", path, path]
        for mount in container.volume_mounts:
            volume = volumes[mount.name]
            if volume.persistent_volume_claim is not None:
                source = self.claims[volume.persistent_volume_claim.claim_name]
                argv += ["--bind", str(source / (mount.sub_path or "")), mount.mount_path]
            else:
                argv += ["--tmpfs", mount.mount_path]
        for variable in container.env:
            argv += ["--setenv", variable.name, variable.value]
        return [*argv, "--chdir", container.working_dir, "--", *command]
