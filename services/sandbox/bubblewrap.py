"""The local sandbox backend: bubblewrap namespaces plus rlimits, no root needed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal

from services.sandbox.backend import SandboxSpec, SandboxUnavailable
from services.sandbox.limits import SANDBOX_ENV, WORKSPACE_MOUNT

# Read-only system paths a shell and the system Python need; everything else is absent.
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64")
_SYSTEM_FILES = ("/etc/alternatives", "/etc/ld.so.cache", "/etc/localtime", "/etc/mime.types")
# The user the agent sees inside its namespace (never root, so no capabilities).
_INNER_ID = "1000"
_READ_CHUNK = 64 * 1024


def _system_mounts() -> list[str]:
    args: list[str] = []
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in _SYSTEM_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


class BubblewrapShell:
    """A bash in a bwrap sandbox; killing the outer bwrap takes its whole PID namespace."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    @property
    def alive(self) -> bool:
        """Whether the shell still runs."""
        return self._process.returncode is None

    async def write(self, data: bytes) -> None:
        """Send bytes to the shell's stdin (silently dropped once it is gone)."""
        stdin = self._process.stdin
        if stdin is None or stdin.is_closing():
            return
        stdin.write(data)
        try:
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            return

    async def read(self) -> bytes:
        """The next chunk of output; b"" once the shell is gone."""
        assert self._process.stdout is not None
        return await self._process.stdout.read(_READ_CHUNK)

    async def kill(self) -> None:
        """SIGKILL the sandbox's process group; --die-with-parent ends the namespace with it."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
        await self._process.wait()


class BubblewrapBackend:
    """Runs each shell under `bwrap --unshare-all` with the workspace the only writable path."""

    def __init__(self, sandbox_uid: int = 65534, bwrap: str | None = None) -> None:
        self._bwrap = bwrap or shutil.which("bwrap")
        # As root, RLIMIT_NPROC is not enforced, so sandboxes run as an unprivileged host user.
        self._drop_to = sandbox_uid if os.geteuid() == 0 else None
        self._setpriv = shutil.which("setpriv")

    @property
    def workspace_owner(self) -> int | None:
        """The host uid that must own workspace files, when the service runs as root."""
        return self._drop_to

    async def prepare(self, spec: SandboxSpec) -> None:
        """Create the workspace, reachable by the sandbox user (who is given it after)."""
        spec.workspace.mkdir(parents=True, exist_ok=True)
        if self._drop_to is not None:
            # The sandbox user must be able to reach the workspace to mount it.
            parent = spec.workspace.parent
            parent.chmod(parent.stat().st_mode | 0o111)
            for ancestor in parent.resolve().parents:
                if not ancestor.stat().st_mode & 0o001:
                    raise SandboxUnavailable(
                        f"the sandbox user {self._drop_to} cannot reach {ancestor}: put "
                        "workspaces under a directory every user may traverse (mode o+x)"
                    )

    async def release(self, spec: SandboxSpec) -> None:
        """Nothing to free: shells are killed by their sessions."""

    def argv(self, spec: SandboxSpec, command: list[str]) -> list[str]:
        """The full command line that runs `command` sandboxed."""
        if self._bwrap is None:
            raise SandboxUnavailable("bubblewrap is not installed: apt-get install bubblewrap")
        prefix: list[str] = []
        if self._drop_to is not None:
            if self._setpriv is None:
                raise SandboxUnavailable("running as root needs setpriv (util-linux)")
            uid = str(self._drop_to)
            prefix = [self._setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]
        env: list[str] = []
        for name, value in SANDBOX_ENV.items():
            env += ["--setenv", name, value]
        return [
            *prefix,
            self._bwrap,
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--uid", _INNER_ID,
            "--gid", _INNER_ID,
            "--hostname", "sandbox",
            *_system_mounts(),
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", str(spec.limits.tmp_bytes),
            "--tmpfs", "/tmp",
            "--bind", str(spec.workspace.resolve()), WORKSPACE_MOUNT,
            "--chdir", WORKSPACE_MOUNT,
            "--clearenv",
            *env,
            "--",
            "prlimit", *spec.limits.prlimit_args(), "--",
            *command,
        ]  # fmt: skip

    async def start_shell(self, spec: SandboxSpec) -> BubblewrapShell:
        """A fresh `bash` reading commands from stdin, output and errors merged."""
        argv = self.argv(spec, ["/bin/bash", "--noprofile", "--norc"])
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                # An empty environment even for bwrap itself: its PID-1 reaper is visible
                # in /proc/1/environ inside the sandbox.
                env={},
                start_new_session=True,
            )
        except OSError as error:
            raise SandboxUnavailable(f"cannot start bubblewrap: {error}") from error
        return BubblewrapShell(process)
