"""The running stack's addresses and processes, written by the supervisor for the CLI."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class ServiceProcess:
    """One service process the supervisor started."""

    pid: int
    metrics_port: int


@dataclass
class StackState:
    """What `apollo status` reports; `phase` is "starting", "ready", "stopping" or "failed"."""

    supervisor_pid: int
    phase: str = "starting"
    broker_address: str = ""
    postgres_dsn: str = ""
    # The pids of the broker and Postgres, which the supervisor restarts when they die.
    broker_pid: int = 0
    postgres_pid: int = 0
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    gateway_url: str | None = None
    gateway_grpc: str | None = None
    prometheus_url: str | None = None
    error: str = ""

    def save(self, path: Path) -> None:
        """Write atomically, so a reader never sees half a file."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> StackState | None:
        try:
            raw = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        services = {name: ServiceProcess(**proc) for name, proc in raw.pop("services", {}).items()}
        return cls(services=services, **raw)


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists (and is not a zombie we could reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
