"""The environment the model backends read, in one validated settings class."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.llm.port import FatalBackendError

# A 135M model on CPU makes a few dozen tokens a second; one call must not take minutes.
DEFAULT_MAX_NEW_TOKENS = 256


class ModelBackendSettings(BaseSettings):
    """Keys, endpoints and local-model limits; environment variables APOLLO_* and the APIs' own."""

    model_config = SettingsConfigDict(env_prefix="APOLLO_", extra="ignore")

    model_dir: Path = Field(
        default=Path.home() / ".cache" / "apollo" / "models",
        description="Models directory; not under APOLLO_HOME, since models are read-only and "
        "shared by every stack on the machine",
    )
    local_max_new_tokens: int = Field(
        default=DEFAULT_MAX_NEW_TOKENS,
        gt=0,
        description="Cap on generated tokens per local call, whatever the sampling params ask",
    )
    local_constrain_tool_calls: bool = Field(
        default=True,
        description="Hold the local model's answer to one call of an offered tool with "
        "arguments valid under its schema (see call_grammar)",
    )
    anthropic_api_key: SecretStr = Field(
        default=SecretStr(""),
        validation_alias="ANTHROPIC_API_KEY",
        description="Key of the Anthropic Messages API",
    )
    anthropic_base_url: str = Field(
        default="", description="Messages API endpoint; empty for Anthropic's own"
    )
    openai_base_url: str = Field(
        default="", description="Chat completions server, ending in /v1 (vLLM, SGLang, OpenAI)"
    )
    openai_api_key: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("APOLLO_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="Key of the chat completions server; local servers usually need none",
    )

    @field_validator("model_dir")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("anthropic_base_url", "openai_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value


def model_backend_settings() -> ModelBackendSettings:
    """The settings from the environment; FatalBackendError names the variables to fix."""
    try:
        return ModelBackendSettings()
    except ValidationError as error:
        # Only the APOLLO_* fields can fail; the keys take any text.
        problems = "; ".join(
            f"APOLLO_{str(problem['loc'][0]).upper()}: {problem['msg']}"
            for problem in error.errors()
        )
        raise FatalBackendError(f"bad model backend settings: {problems}") from error
