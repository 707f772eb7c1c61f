"""The model-backend port: one request (the rendered Prompt) and reply shape, and the errors.

A leaf: stdlib, `apollo.v1` and the trajectory model's prompt values only. The request
values live in the trajectory model so that what it renders is what a backend is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from apollo.v1 import events_pb2 as pb
from services.trajectory.prompt_model import (
    ChatMessage,
    Prompt,
    SamplingParams,
    ToolCallRequest,
    ToolDefinition,
)

__all__ = [
    "BackendError",
    "ChatMessage",
    "FatalBackendError",
    "ModelBackend",
    "ModelReply",
    "ModelSpecData",
    "ParseFailure",
    "Prompt",
    "RetryableBackendError",
    "SamplingParams",
    "TokenUsage",
    "ToolCallRequest",
    "ToolDefinition",
    "new_call_id",
]


@dataclass(frozen=True)
class ModelSpecData:
    """Which backend kind serves which model, as recorded in ActionProposed.model."""

    backend: str  # "anthropic" | "openai" | "local" | "scripted" | "teacher"
    model: str

    def to_proto(self, sampling: SamplingParams | None = None) -> pb.ModelSpec:
        spec = pb.ModelSpec(backend=self.backend, model=self.model)
        if sampling is not None:
            spec.sampling.CopyFrom(sampling.to_proto())
        return spec


@dataclass(frozen=True)
class ParseFailure:
    """Why a model's text yielded no tool call; `kind` uses ParseError's vocabulary."""

    kind: str  # "no_tool_call" | "bad_arguments"
    message: str

    def to_proto(self) -> pb.ParseError:
        return pb.ParseError(kind=self.kind, message=self.message)


@dataclass(frozen=True)
class TokenUsage:
    """What one model call cost in tokens; the cached counts are parts of `prompt_tokens`."""

    prompt_tokens: int
    completion_tokens: int
    approximate: bool
    # Prompt tokens the provider served from its prompt cache (billed at a fraction).
    cache_read_tokens: int = 0
    # Prompt tokens the provider wrote into its prompt cache (Anthropic bills a premium).
    cache_write_tokens: int = 0

    def by_kind(self) -> dict[str, int]:
        """The counts by the `kind` label of the model-token metrics."""
        return {
            "prompt": self.prompt_tokens,
            "completion": self.completion_tokens,
            "cache_read": self.cache_read_tokens,
            "cache_write": self.cache_write_tokens,
        }

    def to_proto(self) -> pb.TokenUsage:
        """The usage as ActionProposed and ContextSummarized record it."""
        return pb.TokenUsage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            approximate=self.approximate,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens,
        )


@dataclass(frozen=True)
class ModelReply:
    """What the model answered, with token accounting and wall time."""

    text: str
    tool_calls: tuple[ToolCallRequest, ...]
    usage: TokenUsage
    latency_ms: int
    # Set when the backend saw something meant as a tool call but could not use it.
    parse_failure: ParseFailure | None = None


class ModelBackend(Protocol):
    """Anything that answers a chat with at most a few tool calls."""

    @property
    def spec(self) -> ModelSpecData: ...

    async def complete(self, prompt: Prompt) -> ModelReply: ...

    def count_tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolDefinition]
    ) -> int: ...


class BackendError(Exception):
    """A model call failed."""


class RetryableBackendError(BackendError):
    """A transient failure (rate limit, overload, 5xx, network) that outlived our retries."""


class FatalBackendError(BackendError):
    """A failure retrying cannot fix: bad request, bad credentials, missing model, bad spec."""


def new_call_id() -> str:
    """A fresh id for a tool call whose backend gives none."""
    return f"call_{uuid.uuid4().hex[:24]}"
