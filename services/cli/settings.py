"""What the `apollo` command reads from its environment (APOLLO_*); unset means "ask the stack"."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ApolloSettings


class CliSettings(ApolloSettings):
    """Where the stack lives and which one to talk to; an empty variable counts as unset."""

    model_config = SettingsConfigDict(env_ignore_empty=True)

    home: Path | None = Field(
        default=None, description="Directory of the embedded stack (default ~/.local/share/apollo)"
    )
    services: str | None = Field(
        default=None,
        description="Comma-separated services `apollo up` runs (default: all this checkout has)",
    )
    kafka: str | None = Field(
        default=None,
        description="Kafka bootstrap servers; with APOLLO_POSTGRES_DSN, no stack is needed",
    )
    postgres_dsn: str | None = Field(default=None, description="Postgres DSN of the archive")
    gateway_grpc: str | None = Field(
        default=None, description="host:port of the gateway's gRPC API (default: the stack's)"
    )
    token: str | None = Field(
        default=None, description="An annotator's token (from `apollo users add`) for the gateway"
    )
