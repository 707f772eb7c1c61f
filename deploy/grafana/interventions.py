"""The Interventions dashboard: how often people step in, how fast they answer the drift
flags, whose attention it costs, and each trajectory's figures from the archive."""

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from deploy.grafana.panels import archive_table, graph


def _quantile(q: float, histogram: str) -> str:
    return f"histogram_quantile({q}, sum by (le) (rate({histogram}_bucket[15m])))"


def interventions() -> Dashboard:
    return (
        Dashboard("Apollo / Interventions")
        .uid("apollo-interventions")
        .tags(["apollo"])
        .time("now-6h", "now")
        .refresh("1m")
        .with_row(Row("Guidance (from the archived log, data-collection runs)"))
        .with_panel(
            graph(
                "Guidance per 100 steps by task",
                "short",
                ("apollo:guidance_per_100_steps_by_task:ratio5m", "{{task}}"),
                ("apollo:guidance_per_100_steps:ratio5m", "all tasks"),
            )
        )
        .with_panel(
            graph(
                "Guidance per 100 steps by task and kind",
                "short",
                ("apollo:guidance_per_100_steps_by_task_kind:ratio5m", "{{task}} {{kind}}"),
            )
        )
        .with_panel(
            graph(
                "Guidance by channel",
                "ops",
                ("sum by (channel) (rate(apollo_domain_guidance_total[5m]))", "{{channel}}"),
            )
        )
        .with_panel(
            graph(
                "Steps by task",
                "ops",
                ("apollo:domain_steps:rate5m", "{{task}} {{backend}}"),
            )
        )
        .with_row(Row("Annotators"))
        .with_panel(
            graph(
                "Response time to attention flags",
                "s",
                (_quantile(0.5, "apollo_gateway_attention_response_seconds"), "p50"),
                (_quantile(0.9, "apollo_gateway_attention_response_seconds"), "p90"),
            )
        )
        .with_panel(
            graph(
                "Flagged for attention, and watched",
                "short",
                ("sum(apollo_gateway_trajectories_needing_attention)", "needing attention"),
                ("sum(apollo_gateway_watchers)", "open live streams"),
            )
        )
        .with_panel(
            graph(
                "Attention time by annotator (seconds on screen per second)",
                "short",
                (
                    "sum by (annotator) (rate(apollo_gateway_attention_seconds_total[5m]))",
                    "{{annotator}}",
                ),
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
                "SELECT annotator, trajectories, seconds, last_seen_at"
                " FROM annotator_attention ORDER BY seconds DESC",
            )
        )
        .with_row(Row("Trajectories (archive read model)"))
        .with_panel(
            archive_table(
                "Trajectories: steps, guidance, rate, score, mask rate",
                "SELECT trajectory_id, task_id, status, steps, guidance_count,"
                " round(guidance_per_100_steps::numeric, 1) AS guidance_per_100_steps,"
                " final_score, ruleset_version, round(mask_rate::numeric, 3) AS mask_rate"
                " FROM trajectory_interventions"
                " ORDER BY last_activity_at DESC, trajectory_id LIMIT 50",
            ).span(24)
        )
    )
