"""Panel builders for the Apollo dashboards: Prometheus time series and archive SQL tables.

The foundation SDK has no PostgreSQL query type, so `SqlQuery` is the small one Grafana's
PostgreSQL datasource reads: raw SQL, in code mode.
"""

import typing

from grafana_foundation_sdk.builders import common, prometheus, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.common import (
    LegendDisplayMode,
    LegendPlacement,
    SortOrder,
    TooltipDisplayMode,
)
from grafana_foundation_sdk.models.dashboard import DataSourceRef

# The uids the datasources get in provisioning/datasources/apollo.yml.
PROMETHEUS = DataSourceRef(type_val="prometheus", uid="apollo-prometheus")
ARCHIVE = DataSourceRef(type_val="grafana-postgresql-datasource", uid="apollo-archive")


class SqlQuery(cogvariants.Dataquery):
    def __init__(self, ref_id: str, raw_sql: str, format_val: str) -> None:
        self.ref_id = ref_id
        self.raw_sql = raw_sql
        self.format_val = format_val

    def to_json(self) -> dict[str, object]:
        return {
            "refId": self.ref_id,
            "datasource": ARCHIVE.to_json(),
            "editorMode": "code",
            "rawQuery": True,
            "rawSql": self.raw_sql,
            "format": self.format_val,
        }


class Sql(cogbuilder.Builder[SqlQuery]):
    def __init__(self, raw_sql: str, format_val: typing.Literal["table", "time_series"]) -> None:
        self._query = SqlQuery("A", raw_sql, format_val)

    def build(self) -> SqlQuery:
        return self._query


def _time_series(title: str, unit: str, datasource: DataSourceRef) -> timeseries.Panel:
    """A half-width time series with a legend below and every series in its tooltip."""
    legend = common.VizLegendOptions().display_mode(LegendDisplayMode.LIST)
    tooltip = common.VizTooltipOptions().mode(TooltipDisplayMode.MULTI).sort(SortOrder.DESCENDING)
    return (
        timeseries.Panel()
        .title(title)
        .unit(unit)
        .datasource(datasource)
        .span(12)
        .height(8)
        .legend(legend.placement(LegendPlacement.BOTTOM).show_legend(True))
        .tooltip(tooltip)
    )


def graph(title: str, unit: str, *series: tuple[str, str]) -> timeseries.Panel:
    """A time series of PromQL expressions, each given as (expression, legend)."""
    panel = _time_series(title, unit, PROMETHEUS)
    for index, (expr, legend) in enumerate(series):
        query = prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(chr(65 + index))
        panel.with_target(query.datasource(PROMETHEUS))
    return panel


def archive_table(title: str, raw_sql: str) -> table.Panel:
    """A table of one SQL query over the archive."""
    return (
        table.Panel()
        .title(title)
        .datasource(ARCHIVE)
        .span(12)
        .height(8)
        .show_header(True)
        .with_target(Sql(raw_sql, "table"))
    )


def archive_graph(title: str, unit: str, raw_sql: str) -> timeseries.Panel:
    """A time series of one SQL query over the archive (columns `time`, then values)."""
    return _time_series(title, unit, ARCHIVE).with_target(Sql(raw_sql, "time_series"))
