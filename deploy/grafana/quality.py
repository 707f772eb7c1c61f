"""The Data quality dashboard: the judge's verdicts live, and the archive's verdicts by rule."""

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from deploy.grafana.panels import archive_graph, archive_table, graph


def quality() -> Dashboard:
    return (
        Dashboard("Apollo / Data quality")
        .uid("apollo-data-quality")
        .tags(["apollo"])
        .time("now-24h", "now")
        .refresh("5m")
        .with_row(Row("Judge, live"))
        .with_panel(
            graph(
                "Mask rate by ruleset",
                "percentunit",
                (
                    'sum by (ruleset) (rate(apollo_judge_verdicts_total{verdict="mask"}[15m]))'
                    " / (sum by (ruleset) (rate(apollo_judge_verdicts_total[15m])) > 0)",
                    "{{ruleset}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Verdicts",
                "ops",
                (
                    "sum by (ruleset, verdict) (rate(apollo_judge_verdicts_total[5m]))",
                    "{{verdict}} {{ruleset}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Reasons by rule",
                "ops",
                ("sum by (rule) (rate(apollo_judge_reasons_total[5m]))", "{{rule}}"),
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
        .with_row(Row("Archive"))
        .with_panel(
            archive_table(
                "Verdicts by ruleset",
                "SELECT ruleset_version, count(*) AS actions,"
                " count(*) FILTER (WHERE verdict = 'mask') AS masked,"
                " round(avg((verdict = 'mask')::int)::numeric, 3) AS mask_rate"
                " FROM verdicts GROUP BY ruleset_version ORDER BY actions DESC",
            )
        )
        .with_panel(
            archive_table(
                "Verdicts by rule",
                "SELECT v.ruleset_version, rule_id, v.verdict, count(*) AS actions"
                " FROM verdicts v, unnest(v.rule_ids) AS rule_id"
                " GROUP BY v.ruleset_version, rule_id, v.verdict"
                " ORDER BY actions DESC",
            )
        )
        .with_panel(
            archive_table(
                "Trajectories by status",
                "SELECT status, count(*) AS trajectories, sum(steps) AS steps,"
                " sum(guidance_count) AS guidance, avg(final_score) AS mean_final_score"
                " FROM trajectories GROUP BY status ORDER BY trajectories DESC",
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
