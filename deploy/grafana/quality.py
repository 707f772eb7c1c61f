"""The Data quality dashboard: verdicts and mask rates by rule and ruleset, datasets built,
evaluation scores by variant, and the archive's verdicts and trajectories."""

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from deploy.grafana.panels import archive_graph, archive_table, graph


def quality() -> Dashboard:
    return (
        Dashboard("Apollo / Data quality")
        .uid("apollo-data-quality")
        .tags(["apollo"])
        .time("now-24h", "now")
        .refresh("5m")
        .with_row(Row("Verdicts (from the archived log)"))
        .with_panel(
            graph(
                "Mask rate by ruleset",
                "percentunit",
                ("apollo:mask_rate_by_ruleset:ratio15m", "{{ruleset}}"),
            )
        )
        .with_panel(
            graph(
                "Mask rate by rule",
                "percentunit",
                ("apollo:mask_rate_by_rule:ratio15m", "{{rule}} {{ruleset}}"),
            )
        )
        .with_panel(
            graph(
                "Verdicts",
                "ops",
                (
                    "sum by (ruleset, verdict) (rate(apollo_domain_verdicts_total[5m]))",
                    "{{verdict}} {{ruleset}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Kept without a judge-model answer",
                "ops",
                (
                    "sum by (model, cause) (rate(apollo_judge_llm_unjudged_total[5m]))",
                    "{{model}} {{cause}}",
                ),
            )
        )
        .with_row(Row("Trajectories, datasets and evaluations (from the archived log)"))
        .with_panel(
            graph(
                "Trajectories ended by status (1h)",
                "short",
                (
                    "sum by (status) (increase(apollo_domain_trajectories_ended_total[1h]))",
                    "{{status}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Dataset samples built by kind (1d)",
                "short",
                (
                    "sum by (kind) (increase(apollo_domain_dataset_samples_total[1d]))",
                    "{{kind}}",
                ),
                (
                    "sum(increase(apollo_domain_datasets_built_total[1d]))",
                    "datasets",
                ),
            )
        )
        .with_panel(
            graph(
                "Evaluation score by variant (mean over 1d)",
                "short",
                (
                    "sum by (variant) (increase(apollo_domain_eval_score_sum[1d]))"
                    " / (sum by (variant) (increase(apollo_domain_eval_score_count[1d])) > 0)",
                    "{{variant}}",
                ),
            )
        )
        .with_row(Row("Archive"))
        .with_panel(
            archive_table(
                "Verdicts by ruleset",
                "SELECT ruleset_version, trajectories, actions, masked,"
                " round(mask_rate::numeric, 3) AS mask_rate"
                " FROM ruleset_verdicts ORDER BY newest_position DESC",
            )
        )
        .with_panel(
            archive_table(
                "Mask rate by rule and ruleset",
                "SELECT ruleset_version, rule_id, fired, masked,"
                " round(mask_rate::numeric, 3) AS mask_rate"
                " FROM rule_verdicts ORDER BY ruleset_version, masked DESC, rule_id",
            )
        )
        .with_panel(
            archive_table(
                "Trajectories by status",
                "SELECT status, trajectories, steps, guidance,"
                " round(guidance_per_100_steps::numeric, 1) AS guidance_per_100_steps,"
                " round(mean_final_score::numeric, 1) AS mean_final_score"
                " FROM trajectory_statuses ORDER BY trajectories DESC",
            )
        )
        .with_panel(
            archive_graph(
                "Trajectories started per hour (7 days)",
                "short",
                "SELECT date_trunc('hour', started_at) AS time, count(*) AS started"
                " FROM trajectories WHERE started_at > now() - interval '7 days'"
                " GROUP BY 1 ORDER BY 1",
            )
        )
    )
