"""The queries of the committed dashboards in deploy/grafana/dashboards, by datasource kind."""

import json
from pathlib import Path

DASHBOARDS = Path(__file__).parents[2] / "deploy" / "grafana" / "dashboards"


def _targets() -> list[dict]:
    return [
        target
        for path in sorted(DASHBOARDS.glob("*.json"))
        for panel in json.loads(path.read_text())["panels"]
        for target in panel.get("targets") or []
    ]


def promql_expressions() -> list[str]:
    return [target["expr"] for target in _targets() if "expr" in target]


def sql_queries() -> list[str]:
    return [target["rawSql"] for target in _targets() if "rawSql" in target]
