"""Prometheus in the embedded stack, when the `prometheus` binary is installed: the shipped
config and rules of deploy/prometheus, scraping every service of this stack."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from services.cli.stack.children import answers_ok, stop_child
from services.cli.stack.home import ApolloHome
from services.cli.stack.ports import free_port
from services.cli.stack.state import ServiceProcess

HOST = "127.0.0.1"
SHIPPED_CONFIG = Path(__file__).parents[3] / "deploy" / "prometheus" / "prometheus.yml"
# One machine and short runs: scrape and evaluate the rules often, so a run shows at once.
EMBEDDED_INTERVAL = "5s"
READY_TIMEOUT_S = 30.0


def prometheus_binary() -> str | None:
    """The `prometheus` on PATH (the Debian package), or None."""
    return shutil.which("prometheus")


def embedded_config(shipped: dict, rules_dir: Path) -> dict:
    """The shipped config with the embedded intervals and its rule files as absolute paths;
    its file-discovered targets stay relative, next to the generated file."""
    config = {**shipped, "global": {**shipped.get("global", {})}}
    config["global"]["scrape_interval"] = EMBEDDED_INTERVAL
    config["global"]["evaluation_interval"] = EMBEDDED_INTERVAL
    config["rule_files"] = [str(rules_dir / pattern) for pattern in shipped.get("rule_files", [])]
    return config


def scrape_targets(services: dict[str, ServiceProcess]) -> list[dict]:
    """File service discovery entries: each service's metrics port, labelled with its name."""
    return [
        {"targets": [f"{HOST}:{process.metrics_port}"], "labels": {"service": name}}
        for name, process in services.items()
    ]


@dataclass
class EmbeddedPrometheus:
    """One Prometheus on a free loopback port, its config, targets and data in APOLLO_HOME."""

    binary: str
    home: ApolloHome
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @classmethod
    def if_installed(cls, home: ApolloHome) -> EmbeddedPrometheus | None:
        binary = prometheus_binary()
        return cls(binary, home) if binary and SHIPPED_CONFIG.is_file() else None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def folder(self) -> Path:
        return self.home.root / "prometheus"

    def write_config(self, services: dict[str, ServiceProcess]) -> Path:
        """Generate prometheus.yml and targets/apollo.json from the shipped config."""
        targets = self.folder / "targets"
        targets.mkdir(parents=True, exist_ok=True)
        (targets / "apollo.json").write_text(json.dumps(scrape_targets(services), indent=2))
        shipped = yaml.safe_load(SHIPPED_CONFIG.read_text())
        config = embedded_config(shipped, SHIPPED_CONFIG.parent)
        path = self.folder / "prometheus.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def command(self, config: Path) -> list[str]:
        return [
            self.binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.folder / 'data'}",
            f"--web.listen-address={HOST}:{self.port}",
        ]

    def start(self, services: dict[str, ServiceProcess]) -> None:
        """Write the config for these services and start Prometheus on it."""
        config = self.write_config(services)
        with open(self.home.logs_dir / "prometheus.log", "ab") as log:
            self.process = subprocess.Popen(
                self.command(config), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Block until /-/ready answers 200; raise PrometheusNotReady otherwise."""
        deadline = time.monotonic() + timeout
        while not prometheus_ready(self.url):
            if self.exited() or time.monotonic() > deadline:
                raise PrometheusNotReady(
                    f"Prometheus did not become ready on {self.url} "
                    f"(see {self.home.logs_dir / 'prometheus.log'})"
                )
            time.sleep(0.1)

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self) -> None:
        stop_child(self.process, timeout=10)


class PrometheusNotReady(RuntimeError):
    """The embedded Prometheus exited or did not answer its readiness check in time."""


def prometheus_ready(url: str) -> bool:
    """True if a Prometheus at `url` answers 200 on /-/ready."""
    return answers_ok(f"{url}/-/ready")
