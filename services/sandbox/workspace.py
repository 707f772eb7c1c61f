"""A trajectory's workspace on the host, and file access confined to it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from services.sandbox.limits import WORKSPACE_MOUNT


class PathOutsideWorkspace(ValueError):
    """A path that leaves the workspace (`..`, an absolute path elsewhere, a symlink out)."""


class UnusablePath(ValueError):
    """A path no file can have (it holds a NUL byte)."""


@dataclass(frozen=True)
class Workspace:
    """The host directory mounted at /workspace, and who must own what is written to it."""

    root: Path
    owner_uid: int | None = None

    def resolve(self, path: str) -> Path:
        """The host path for an agent path (relative, or absolute under /workspace)."""
        if "\x00" in path:
            raise UnusablePath(f"{path!r} contains a NUL byte; file paths cannot")
        agent_path = PurePosixPath(path or ".")
        if agent_path.is_absolute():
            try:
                agent_path = agent_path.relative_to(WORKSPACE_MOUNT)
            except ValueError:
                raise PathOutsideWorkspace(
                    f"{path!r} is outside {WORKSPACE_MOUNT}; use a path inside the workspace"
                ) from None
        root = self.root.resolve()
        # Resolving follows symlinks, so a link planted to /etc is caught here too.
        host_path = (root / agent_path).resolve()
        if not host_path.is_relative_to(root):
            raise PathOutsideWorkspace(
                f"{path!r} leads outside {WORKSPACE_MOUNT}; use a path inside the workspace"
            )
        return host_path

    def agent_path(self, host_path: Path) -> str:
        """How the agent sees a host path (relative to /workspace)."""
        relative = host_path.relative_to(self.root.resolve())
        return str(relative) if str(relative) != "." else "."

    def write_text(self, host_path: Path, text: str) -> None:
        """Write a file the sandbox user can still edit, never following a final symlink."""
        host_path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        fd = os.open(host_path, flags, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        if self.owner_uid is not None:
            self._chown_up_to_root(host_path)

    def _chown_up_to_root(self, host_path: Path) -> None:
        root = self.root.resolve()
        current = host_path
        while current != root and current.is_relative_to(root):
            os.chown(current, self.owner_uid, self.owner_uid, follow_symlinks=False)
            current = current.parent


def chown_tree(root: Path, uid: int) -> None:
    """Give `root` and everything under it to `uid` (symlinks themselves, not their targets)."""
    os.chown(root, uid, uid)
    for directory, subdirs, files in os.walk(root):
        for name in subdirs + files:
            os.chown(os.path.join(directory, name), uid, uid, follow_symlinks=False)
