"""What Prometheus can query in Apollo: the series the services export and the recorded rules."""

from pathlib import Path

import yaml
from prometheus_client import REGISTRY

from tests.unit.test_metrics_documented import import_every_service_module

RULES = Path(__file__).parents[2] / "deploy" / "prometheus" / "rules"
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}


def rules() -> list[dict]:
    """Every rule, recording and alerting, of deploy/prometheus/rules."""
    return [
        rule
        for path in RULES.glob("*.yml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def exported_series() -> set[str]:
    import_every_service_module()
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in SUFFIXES.get(family.type, [])
    }
