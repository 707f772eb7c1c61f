"""The judge's settings (APOLLO_JUDGE_*, plus the shared APOLLO_KAFKA and APOLLO_POSTGRES_DSN)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.judge.ruleset import SHIPPED_RULESETS
from services.runtime.settings import ServiceSettings

JUDGE_GROUP = "apollo-judge"


class JudgeSettings(ServiceSettings):
    """Which ruleset the live judge applies, the consumer group it reads the log as, and how
    many calls its judge models take at once."""

    judge_group: str = Field(
        default=JUDGE_GROUP,
        description="Kafka consumer group; its committed offsets let a restart resume the log",
    )
    judge_ruleset: Path = Field(
        default=SHIPPED_RULESETS / "default.yaml",
        description="YAML ruleset the live judge applies (check it with `apollo judge lint`); "
        "the shipped `default` unless set",
    )
    judge_model_concurrency: int = Field(
        default=4,
        ge=1,
        description="Calls in flight per judge model of the ruleset's llm_judge rules",
    )
