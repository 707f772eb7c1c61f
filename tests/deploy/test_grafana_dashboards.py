"""The committed dashboard JSON is what deploy/grafana builds, and its PromQL parses and names
only series the services export or the rules record."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.exported_metrics import exported_series, recorded_names
from tests.deploy.grafana_queries import promql_expressions

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian package `prometheus`)"
)


def test_committed_json_is_fresh() -> None:
    pytest.importorskip("grafana_foundation_sdk", reason="grafana-foundation-sdk is not installed")
    from deploy.grafana.dashboards import stale_files

    assert stale_files() == [], "run python -m deploy.grafana.dashboards"


def _promtool_check(expressions: list[str], folder: Path) -> subprocess.CompletedProcess:
    """`promtool check rules` on a rules file holding each expression as a recording rule."""
    records = [{"record": f"grafana:panel_{n}", "expr": e} for n, e in enumerate(expressions)]
    path = folder / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "grafana", "rules": records}]}))
    return subprocess.run(
        [PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )


@needs_promtool
def test_every_expression_parses(tmp_path: Path) -> None:
    expressions = promql_expressions()
    assert expressions, "no PromQL in the dashboards"
    result = _promtool_check(expressions, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_the_check_catches_a_broken_expression(tmp_path: Path) -> None:
    result = _promtool_check(["sum(rate(apollo_policy_steps_total[5m])"], tmp_path)
    assert result.returncode != 0


def test_expressions_name_only_exported_or_recorded_series() -> None:
    expressions = " ".join(promql_expressions())
    series = set(re.findall(r"\bapollo_\w+", expressions))
    recorded = set(re.findall(r"\bapollo:[\w:]+", expressions))
    assert series
    assert recorded
    assert series <= exported_series(), sorted(series - exported_series())
    assert recorded <= recorded_names(), sorted(recorded - recorded_names())
