"""The Interventions dashboard: how often people step in, and how much the agents run meanwhile."""

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from deploy.grafana.panels import archive_table, graph


def interventions() -> Dashboard:
    return (
        Dashboard("Apollo / Interventions")
        .uid("apollo-interventions")
        .tags(["apollo"])
        .time("now-6h", "now")
        .refresh("1m")
        .with_row(Row("Guidance"))
        .with_panel(
            graph(
                "Guidance per 100 steps",
                "short",
                ("apollo:guidance_per_100_steps:ratio5m", "per 100 steps (5m)"),
                (
                    "100 * sum(increase(apollo_gateway_guidance_submitted_total[1h]))"
                    " / (sum(increase(apollo_policy_steps_total[1h])) > 0)",
                    "per 100 steps (1h)",
                ),
            )
        )
        .with_panel(
            graph(
                "Guidance submitted by kind",
                "ops",
                (
                    "sum by (kind) (rate(apollo_gateway_guidance_submitted_total[5m]))",
                    "{{kind}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Guidance submitted by channel",
                "ops",
                (
                    "sum by (channel) (rate(apollo_gateway_guidance_submitted_total[5m]))",
                    "{{channel}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Steps proposed",
                "ops",
                ("apollo:policy_steps:rate5m", "all"),
                ("sum by (backend) (rate(apollo_policy_steps_total[5m]))", "{{backend}}"),
            )
        )
        .with_row(Row("Annotators"))
        .with_panel(
            graph(
                "Annotator attention (annotators on screen)",
                "short",
                ("sum(rate(apollo_gateway_attention_seconds_total[5m]))", "attention s/s"),
                ("sum(apollo_gateway_trajectories_needing_attention)", "needing attention"),
                ("sum(apollo_gateway_watchers)", "open live streams"),
            )
        )
        .with_panel(
            graph(
                "Step labels by label",
                "ops",
                ("sum by (label) (rate(apollo_gateway_step_labels_total[5m]))", "{{label}}"),
            )
        )
        .with_panel(
            archive_table(
                "Attention by annotator",
                "SELECT annotator, count(*) AS trajectories, sum(seconds) AS seconds"
                " FROM attention GROUP BY annotator ORDER BY seconds DESC",
            )
        )
        .with_panel(
            archive_table(
                "Most guided trajectories",
                "SELECT trajectory_id, task_id, status, steps, guidance_count,"
                " round((100.0 * guidance_count / NULLIF(steps, 0))::numeric, 1)"
                " AS guidance_per_100_steps"
                " FROM trajectories WHERE guidance_count > 0"
                " ORDER BY guidance_count DESC LIMIT 20",
            )
        )
    )
