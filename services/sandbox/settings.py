"""The sandbox's settings (APOLLO_SANDBOX_*, plus the shared APOLLO_KAFKA and
APOLLO_POSTGRES_DSN)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from services.runtime.settings import ServiceSettings

SANDBOX_GROUP = "apollo-sandbox"


class SandboxSettings(ServiceSettings):
    """Where workspaces live, which backend runs them, and their default limits."""

    sandbox_group: str = Field(default=SANDBOX_GROUP, description="Kafka consumer group")
    sandbox_workspace_root: Path = Field(
        default=Path("var/sandbox/workspaces"), description="One workspace directory per trajectory"
    )
    blob_dir: Path = Field(
        default=Path("var/blobs"),
        description="Directory blob store of full outputs (APOLLO_BLOB_DIR, shared by services)",
    )
    sandbox_backend: Literal["bubblewrap", "kubernetes"] = Field(
        default="bubblewrap", description="Local bubblewrap sandboxes, or one pod per trajectory"
    )
    sandbox_uid: int = Field(
        default=65534, description="Host uid sandboxes run as when the service runs as root"
    )
    sandbox_task_dirs: list[Path] = Field(
        default_factory=list, description="Extra task pack directories (the built-ins always load)"
    )
    sandbox_processes: int = Field(default=256, ge=8, description="RLIMIT_NPROC per sandbox")
    sandbox_cpu_seconds: int = Field(default=4 * 3600, ge=1, description="RLIMIT_CPU per process")
    sandbox_file_bytes: int = Field(default=1024**3, ge=1, description="RLIMIT_FSIZE")
    sandbox_k8s_namespace: str = Field(default="apollo-sandboxes", description="Pods go here")
    sandbox_k8s_image: str = Field(
        default="python:3.11-slim", description="Image of sandbox pods (needs bash, prlimit)"
    )
    sandbox_k8s_workspace_claim: str = Field(
        default="",
        description="ReadWriteMany PersistentVolumeClaim holding the workspace root; each pod "
        "mounts its trajectory's directory of it (required by the kubernetes backend)",
    )
