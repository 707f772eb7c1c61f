"""The Pipeline health dashboard: throughput, latency, lag and failures of every service."""

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from deploy.grafana.panels import graph


def _quantile(q: float, histogram: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by ({by}) (rate({histogram}_bucket[5m])))"


def pipeline() -> Dashboard:
    return (
        Dashboard("Apollo / Pipeline health")
        .uid("apollo-pipeline")
        .tags(["apollo"])
        .time("now-6h", "now")
        .refresh("30s")
        .with_row(Row("Bus"))
        .with_panel(graph("Steps proposed", "ops", ("apollo:policy_steps:rate5m", "steps/s")))
        .with_panel(graph("Consumed", "ops", ("apollo:bus_consumed:rate5m", "{{group}} {{topic}}")))
        .with_panel(
            graph(
                "Handler latency",
                "s",
                (_quantile(0.5, "apollo_bus_handler_seconds", "group, le"), "p50 {{group}}"),
                (_quantile(0.99, "apollo_bus_handler_seconds", "group, le"), "p99 {{group}}"),
            )
        )
        .with_panel(
            graph(
                "Consumer lag",
                "short",
                ("sum by (group, topic) (apollo_bus_consumer_lag)", "{{group}} {{topic}}"),
            )
        )
        .with_panel(
            graph(
                "Dead letters",
                "ops",
                ("apollo:bus_deadlettered:rate5m", "{{group}} {{error_class}}"),
                ("apollo:recorder_deadlettered:rate5m", "recorder {{error_class}}"),
            )
        )
        .with_row(Row("Recorder and judge"))
        .with_panel(
            graph(
                "Recorder",
                "short",
                ("apollo:recorder_archived:rate5m", "archived/s"),
                ("sum by (topic) (apollo_recorder_lag_messages)", "lag {{topic}}"),
            )
        )
        .with_panel(
            graph(
                "Judge",
                "s",
                (_quantile(0.5, "apollo_judge_lag_seconds", "le"), "lag p50"),
                (_quantile(0.95, "apollo_judge_lag_seconds", "le"), "lag p95"),
            )
        )
        .with_panel(
            graph(
                "Judge pending actions",
                "short",
                ("sum(apollo_judge_pending_actions)", "pending"),
            )
        )
        .with_row(Row("Models and sandbox"))
        .with_panel(
            graph(
                "Model and backend errors",
                "ops",
                (
                    "sum by (backend, error_class) (rate(apollo_policy_backend_errors_total[5m]))",
                    "policy {{backend}} {{error_class}}",
                ),
                (
                    "sum by (backend) (rate(apollo_summarizer_backend_errors_total[5m]))",
                    "summarizer {{backend}}",
                ),
                (
                    'sum by (model) (rate(apollo_judge_llm_calls_total{outcome="error"}[5m]))',
                    "judge {{model}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Model call latency p95",
                "s",
                (
                    _quantile(0.95, "apollo_policy_model_seconds", "backend, le"),
                    "policy {{backend}}",
                ),
                (
                    _quantile(0.95, "apollo_summarizer_model_seconds", "backend, le"),
                    "summarizer {{backend}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Sandbox tool calls by outcome",
                "ops",
                (
                    "sum by (tool, success) (rate(apollo_sandbox_tool_calls_total[5m]))",
                    "{{tool}} success={{success}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Null actions by kind",
                "ops",
                ("sum by (kind) (rate(apollo_policy_null_actions_total[5m]))", "{{kind}}"),
            )
        )
    )
