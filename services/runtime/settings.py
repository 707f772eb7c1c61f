"""Settings every service shares; each service (and the CLI) extends them."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApolloSettings(BaseSettings):
    """Settings read from APOLLO_* environment variables; others are ignored."""

    model_config = SettingsConfigDict(env_prefix="APOLLO_", extra="ignore")


class ServiceSettings(ApolloSettings):
    """Where the broker and the archive are, and where to expose metrics."""

    kafka: str = Field(
        default="127.0.0.1:9092", description="Kafka bootstrap servers, host:port[,host:port]"
    )
    postgres_dsn: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        description="Postgres DSN of the archive",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Address /metrics and /healthz listen on: loopback here, 0.0.0.0 in a pod",
    )
    metrics_port: int = Field(
        default=0, description="Port of /metrics and /healthz; 0 picks a free one"
    )
    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING, ERROR")
