"""Settings every service shares; each service extends them with its own prefix."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Where the broker and the archive are, and where to expose metrics."""

    model_config = SettingsConfigDict(env_prefix="APOLLO_", extra="ignore")

    kafka: str = Field(
        default="127.0.0.1:9092", description="Kafka bootstrap servers, host:port[,host:port]"
    )
    postgres_dsn: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        description="Postgres DSN of the archive",
    )
    metrics_port: int = Field(
        default=0, description="Port of /metrics and /healthz on loopback; 0 picks a free one"
    )
    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING, ERROR")
