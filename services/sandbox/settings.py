"""The sandbox's settings (APOLLO_SANDBOX_*, plus the shared APOLLO_KAFKA and
APOLLO_POSTGRES_DSN)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from services.runtime.settings import ServiceSettings
from services.runtime.sharding import Shard

SANDBOX_GROUP = "apollo-sandbox"


class SandboxSettings(ServiceSettings):
    """Where workspaces live, which backend runs them, and their default limits."""

    sandbox_group: str = Field(
        default=SANDBOX_GROUP,
        description="Kafka consumer group; with several shards, each reads under this name "
        "with its shard appended",
    )
    sandbox_shard_index: int = Field(
        default=0,
        ge=0,
        description="This process's shard; it runs the trajectories whose hash modulo "
        "sandbox_shard_count equals it",
    )
    sandbox_shard_count: int = Field(
        default=1, ge=1, description="Sandbox processes sharing the trajectories"
    )
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

    @model_validator(mode="after")
    def _shard_in_range(self) -> SandboxSettings:
        _ = self.shard  # building it checks the index against the count
        return self

    @cached_property
    def shard(self) -> Shard:
        """The trajectories this process runs."""
        return Shard(self.sandbox_shard_index, self.sandbox_shard_count, "APOLLO_SANDBOX_SHARD")
