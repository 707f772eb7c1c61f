"""The Prometheus rules in deploy/prometheus use only apollo_ series the services export."""

import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

from tests.unit.test_metrics_documented import import_every_service_module

RULES = Path(__file__).parents[2] / "deploy" / "prometheus" / "rules"
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}


def series_in_rules() -> set[str]:
    """apollo_ metric names in rule expressions (recorded `apollo:` names are not metrics)."""
    expressions = [
        rule["expr"]
        for path in RULES.glob("*.yml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]
    return {name for expr in expressions for name in re.findall(r"\bapollo_\w+", expr)}


def exported_series() -> set[str]:
    import_every_service_module()
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in SUFFIXES.get(family.type, [])
    }


def test_rules_use_only_exported_series() -> None:
    used = series_in_rules()
    assert used, f"no apollo_ series found in {RULES}"
    assert used <= exported_series(), sorted(used - exported_series())
