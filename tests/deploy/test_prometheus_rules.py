"""promtool accepts deploy/prometheus: the scrape config, the rules and the rules' unit tests."""

import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS = Path(__file__).parents[2] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")

pytestmark = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian package `prometheus`)"
)


def _files(folder: str) -> list[str]:
    paths = sorted(PROMETHEUS.glob(f"{folder}/*.yml"))
    assert paths, f"no {folder}/*.yml under {PROMETHEUS}"
    return [str(path.relative_to(PROMETHEUS)) for path in paths]


def _promtool(*args: str) -> None:
    result = subprocess.run(
        [PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_scrape_config_is_valid() -> None:
    _promtool("check", "config", "prometheus.yml")


def test_rules_are_valid() -> None:
    _promtool("check", "rules", *_files("rules"))


def test_rules_pass_their_unit_tests() -> None:
    _promtool("test", "rules", *_files("tests"))
