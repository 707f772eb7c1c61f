"""The sandbox backend port: start an isolated shell over a trajectory's workspace."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from services.sandbox.limits import ResourceLimits


class SandboxUnavailable(RuntimeError):
    """The backend cannot start sandboxes here (missing tool, no permission, no cluster)."""


@dataclass(frozen=True)
class SandboxSpec:
    """What one sandboxed shell needs: whose it is, its workspace, its limits."""

    trajectory_id: str
    workspace: Path
    limits: ResourceLimits = field(default_factory=ResourceLimits)


class ShellProcess(Protocol):
    """A long-lived shell inside a sandbox, driven through its stdin and merged output."""

    async def write(self, data: bytes) -> None:
        """Send bytes to the shell's stdin."""

    async def read(self) -> bytes:
        """The next chunk of stdout+stderr; b"" once the shell is gone."""

    async def kill(self) -> None:
        """Kill the shell and every process in its sandbox, and wait until they are gone."""

    @property
    def alive(self) -> bool:
        """Whether the shell still runs."""


class SandboxBackend(Protocol):
    """Starts shells in isolated sandboxes (bubblewrap locally, a pod on Kubernetes)."""

    @property
    def workspace_owner(self) -> int | None:
        """The host uid that must own the workspace and every file written to it; None
        when sandboxes run as the service's own user."""

    async def prepare(self, spec: SandboxSpec) -> None:
        """Make the workspace usable by sandboxed processes (reachable, mounted in a pod)."""

    async def start_shell(self, spec: SandboxSpec) -> ShellProcess:
        """A fresh shell in `spec.workspace`; raise `SandboxUnavailable` when impossible."""

    async def release(self, spec: SandboxSpec) -> None:
        """Free what `prepare` set up for this trajectory (the workspace itself stays)."""
