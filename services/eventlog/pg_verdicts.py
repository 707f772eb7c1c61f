"""The verdict read model's queries in Postgres; `PgArchive`'s append fills the table."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from services.eventlog.verdict_model import RuleCounts, VerdictRow, VersionCounts

_VERDICT_COLUMNS = (
    "action_id, ruleset_version, trajectory_id, step_index, verdict, rule_ids, position"
)

_VERSIONS = """
SELECT ruleset_version, count(DISTINCT trajectory_id) AS trajectories, count(*) AS actions,
    count(*) FILTER (WHERE verdict = 'mask') AS masked, max(position) AS newest_position
FROM verdicts GROUP BY ruleset_version ORDER BY newest_position DESC
"""

# A rule named twice in one verdict counts once, as in memory.
_RULES = """
SELECT ruleset_version, rule_id, count(*) AS fired,
    count(*) FILTER (WHERE verdict = 'mask') AS masked
FROM (SELECT DISTINCT ruleset_version, action_id, verdict, unnest(rule_ids) AS rule_id
      FROM verdicts) AS reasons
GROUP BY ruleset_version, rule_id
"""


def _verdict(row: asyncpg.Record) -> VerdictRow:
    return VerdictRow(**{**row, "rule_ids": tuple(row["rule_ids"])})


class PgVerdictReadModel:
    """Reads the `verdicts` and `rulesets` tables of archive_schema.sql through `_pool`."""

    _pool: asyncpg.Pool

    async def verdicts(
        self, ruleset_version: str, trajectory_ids: Iterable[str] | None = None
    ) -> list[VerdictRow]:
        """A version's verdict rows (of some trajectories only), by trajectory then step."""
        wanted = None if trajectory_ids is None else list(trajectory_ids)
        rows = await self._pool.fetch(
            f"SELECT {_VERDICT_COLUMNS} FROM verdicts WHERE ruleset_version = $1"
            " AND ($2::text[] IS NULL OR trajectory_id = ANY($2::text[]))"
            " ORDER BY trajectory_id, step_index, action_id",
            ruleset_version,
            wanted,
        )
        return [_verdict(row) for row in rows]

    async def verdict_versions(self) -> list[VersionCounts]:
        """Every ruleset version with verdicts, the one that judged last first."""
        async with self._pool.acquire() as connection, connection.transaction():
            # One snapshot, so the per-rule counts agree with the totals.
            await connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            versions = await connection.fetch(_VERSIONS)
            rules = await connection.fetch(_RULES)
        by_version: dict[str, dict[str, RuleCounts]] = {}
        for row in rules:
            by_version.setdefault(row["ruleset_version"], {})[row["rule_id"]] = RuleCounts(
                row["fired"], row["masked"]
            )
        return [
            VersionCounts(**row, rules=by_version.get(row["ruleset_version"], {}))
            for row in versions
        ]

    async def record_ruleset(self, version: str, document: str) -> bool:
        """Keep a ruleset's canonical document under its version; False if already kept."""
        status = await self._pool.execute(
            "INSERT INTO rulesets (version, document) VALUES ($1, $2)"
            " ON CONFLICT (version) DO NOTHING",
            version,
            document,
        )
        return status == "INSERT 0 1"

    async def ruleset_document(self, version: str) -> str | None:
        """The canonical document recorded for a version, None if none was."""
        return await self._pool.fetchval(
            "SELECT document FROM rulesets WHERE version = $1", version
        )

    async def ruleset_versions(self) -> list[str]:
        """The version of every recorded ruleset."""
        return [row["version"] for row in await self._pool.fetch("SELECT version FROM rulesets")]
