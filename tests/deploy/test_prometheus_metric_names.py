"""The Prometheus rules in deploy/prometheus use only apollo_ series the services export."""

import re

from tests.deploy.exported_metrics import RULES, exported_series, rules


def series_in_rules() -> set[str]:
    """apollo_ metric names in rule expressions (recorded `apollo:` names are not metrics)."""
    return {name for rule in rules() for name in re.findall(r"\bapollo_\w+", rule["expr"])}


def test_rules_use_only_exported_series() -> None:
    used = series_in_rules()
    assert used, f"no apollo_ series found in {RULES}"
    assert used <= exported_series(), sorted(used - exported_series())
