"""The embedded stack's Prometheus config is generated from deploy/prometheus: it keeps the
shipped scrape jobs and rules, scrapes every service of the stack, and promtool accepts it."""

import json
import shutil
import subprocess
from glob import glob
from pathlib import Path

import pytest
import yaml

from services.cli.stack.home import ApolloHome
from services.cli.stack.prometheus import (
    EMBEDDED_INTERVAL,
    SHIPPED_CONFIG,
    EmbeddedPrometheus,
)
from services.cli.stack.state import ServiceProcess
from services.cli.stack_commands import _status_report

PROMTOOL = shutil.which("promtool")
SERVICES = {"recorder": ServiceProcess(pid=1, metrics_port=9101), "judge": ServiceProcess(2, 9102)}


@pytest.fixture
def written(tmp_path: Path) -> Path:
    home = ApolloHome(tmp_path / "home").ensure()
    return EmbeddedPrometheus("prometheus", home).write_config(SERVICES)


def test_the_generated_config_is_the_shipped_one_with_short_intervals(written: Path) -> None:
    shipped = yaml.safe_load(SHIPPED_CONFIG.read_text())
    generated = yaml.safe_load(written.read_text())
    assert generated["scrape_configs"] == shipped["scrape_configs"]
    assert generated["global"]["scrape_interval"] == EMBEDDED_INTERVAL
    assert generated["global"]["evaluation_interval"] == EMBEDDED_INTERVAL
    rule_files = sorted(Path(p) for pattern in generated["rule_files"] for p in glob(pattern))
    assert rule_files == sorted(SHIPPED_CONFIG.parent.glob("rules/*.yml"))


def test_the_targets_are_every_service_labelled_by_name(written: Path) -> None:
    targets = json.loads((written.parent / "targets" / "apollo.json").read_text())
    assert targets == [
        {"targets": ["127.0.0.1:9101"], "labels": {"service": "recorder"}},
        {"targets": ["127.0.0.1:9102"], "labels": {"service": "judge"}},
    ]


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (package `prometheus`)")
def test_promtool_accepts_the_generated_config_and_its_rules(written: Path) -> None:
    result = subprocess.run(
        [PROMTOOL, "check", "config", str(written)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for rules in SHIPPED_CONFIG.parent.glob("rules/*.yml"):
        assert f"Checking {rules}" in result.stdout, result.stdout


def test_without_the_binary_there_is_no_prometheus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    home = ApolloHome(tmp_path / "home").ensure()
    assert EmbeddedPrometheus.if_installed(home) is None
    assert _status_report(home)["prometheus"] == {"ok": False, "url": None, "installed": False}
