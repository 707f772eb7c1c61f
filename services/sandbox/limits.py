"""Resource limits of one sandbox, and the minimal environment every command gets."""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3
MIB = 1024**2

# Fixed, so nothing of the host's environment (API keys above all) reaches the agent.
SANDBOX_ENV: dict[str, str] = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/workspace",
    "LANG": "C.UTF-8",
    "TERM": "dumb",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}

WORKSPACE_MOUNT = "/workspace"


@dataclass(frozen=True)
class ResourceLimits:
    """Per-process limits inside a sandbox (rlimits), plus the size of its private /tmp."""

    # RLIMIT_AS of every process: well below the host's memory.
    memory_bytes: int = 4 * GIB
    # RLIMIT_NPROC, counted per sandbox because each one has its own user namespace.
    processes: int = 256
    # RLIMIT_CPU of every process; long enough for a background "training" job.
    cpu_seconds: int = 4 * 3600
    # RLIMIT_FSIZE: the largest file a process may write.
    file_bytes: int = 1 * GIB
    open_files: int = 1024
    tmp_bytes: int = 256 * MIB

    def prlimit_args(self) -> list[str]:
        """The `prlimit` options that apply these limits to the sandboxed shell."""
        return [
            f"--as={self.memory_bytes}",
            f"--nproc={self.processes}",
            f"--cpu={self.cpu_seconds}",
            f"--fsize={self.file_bytes}",
            f"--nofile={self.open_files}",
            "--core=0",
        ]
