"""The service processes of the embedded stack: which run, how to start and watch them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from services.cli.settings import CliSettings
from services.cli.stack.children import answers_ok, wait_or_kill
from services.cli.stack.ports import free_port

# In start order: the recorder first, so nothing is produced before it archives.
KNOWN_SERVICES = ("recorder", "sandbox", "summarizer", "policy", "judge", "gateway")


class UnknownService(ValueError):
    """APOLLO_SERVICES names a service the stack does not have."""


def chosen_services() -> list[str]:
    """The services to run, in start order: all of them, or those APOLLO_SERVICES names."""
    wanted = CliSettings().services
    chosen = set(wanted.split(",")) if wanted else set(KNOWN_SERVICES)
    unknown = chosen - set(KNOWN_SERVICES)
    if unknown:
        raise UnknownService(
            f"APOLLO_SERVICES names unknown services: {', '.join(sorted(unknown))};"
            f" the stack has {', '.join(KNOWN_SERVICES)}"
        )
    return [name for name in KNOWN_SERVICES if name in chosen]


@dataclass
class ServiceRunner:
    """One service as a child process with its environment and log file."""

    name: str
    env: dict[str, str]
    log_path: Path
    metrics_port: int = 0
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.metrics_port = self.metrics_port or free_port()
        env = {**os.environ, **self.env, "APOLLO_METRICS_PORT": str(self.metrics_port)}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def healthy(self) -> bool:
        """Alive and answering 200 on /healthz."""
        return self.process is not None and not self.exited() and health_ok(self.metrics_port)

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM), without waiting."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait_stopped(self, timeout: float = 10.0) -> None:
        """Wait for a terminated process; kill it when it takes longer than `timeout`."""
        if self.process is not None:
            wait_or_kill(self.process, timeout)


def stop_together(runners: list[ServiceRunner], timeout: float = 10.0) -> None:
    """Terminate every runner at once, then wait for each: they shut down in parallel."""
    for runner in runners:
        runner.terminate()
    for runner in runners:
        runner.wait_stopped(timeout)


def health_ok(port: int) -> bool:
    """True if a service answers 200 on 127.0.0.1:port/healthz."""
    return answers_ok(f"http://127.0.0.1:{port}/healthz")
