"""The model-backend port: the canonical chat format, one request/reply shape, errors, factory."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from apollo.v1 import events_pb2 as pb


@dataclass(frozen=True)
class ToolCallRequest:
    """One tool call the model asked for; arguments as canonical JSON."""

    call_id: str
    name: str
    arguments_json: str

    def to_proto(self) -> pb.ToolCall:
        return pb.ToolCall(call_id=self.call_id, name=self.name, arguments_json=self.arguments_json)


@dataclass(frozen=True)
class ChatMessage:
    """One message of the canonical chat format the prompt renderer produces."""

    role: str  # "system" | "user" | "assistant" | "tool"
    content: str
    tool_calls: tuple[ToolCallRequest, ...] = ()  # assistant turns only
    tool_call_id: str = ""  # tool turns only


@dataclass(frozen=True)
class ToolDefinition:
    """A tool as shown to the model; its argument schema as JSON Schema text."""

    name: str
    description: str
    parameters_json_schema: str

    @classmethod
    def from_proto(cls, spec: pb.ToolSpec) -> ToolDefinition:
        return cls(spec.name, spec.description, spec.parameters_json_schema)

    def to_proto(self) -> pb.ToolSpec:
        return pb.ToolSpec(
            name=self.name,
            description=self.description,
            parameters_json_schema=self.parameters_json_schema,
        )


@dataclass(frozen=True)
class SamplingParams:
    """How to sample; the defaults are the paper's (temperature 1.0, at most 8192 tokens)."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 8192
    seed: int | None = None

    @classmethod
    def from_proto(cls, params: pb.SamplingParams) -> SamplingParams:
        seed = params.seed if params.HasField("seed") else None
        return cls(params.temperature, params.top_p, params.max_tokens, seed)

    def to_proto(self) -> pb.SamplingParams:
        return pb.SamplingParams(
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens,
            seed=self.seed,
        )


@dataclass(frozen=True)
class ModelSpecData:
    """Which backend kind serves which model, as recorded in ActionProposed.model."""

    backend: str  # "anthropic" | "openai" | "local" | "scripted"
    model: str

    def to_proto(self, sampling: SamplingParams | None = None) -> pb.ModelSpec:
        spec = pb.ModelSpec(backend=self.backend, model=self.model)
        if sampling is not None:
            spec.sampling.CopyFrom(sampling.to_proto())
        return spec


@dataclass(frozen=True)
class ModelRequest:
    """One model call: the rendered conversation, the tools and the sampling parameters."""

    messages: tuple[ChatMessage, ...]
    tools: tuple[ToolDefinition, ...]
    sampling: SamplingParams = SamplingParams()


@dataclass(frozen=True)
class ParseFailure:
    """Why a model's text yielded no tool call; `kind` uses ParseError's vocabulary."""

    kind: str  # "no_tool_call" | "bad_arguments"
    message: str

    def to_proto(self) -> pb.ParseError:
        return pb.ParseError(kind=self.kind, message=self.message)


@dataclass(frozen=True)
class ModelReply:
    """What the model answered, with token accounting and wall time."""

    text: str
    tool_calls: tuple[ToolCallRequest, ...]
    prompt_tokens: int
    completion_tokens: int
    approximate_tokens: bool
    latency_ms: int
    # Set when the backend saw something meant as a tool call but could not use it.
    parse_failure: ParseFailure | None = None

    def usage(self) -> pb.TokenUsage:
        return pb.TokenUsage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            approximate=self.approximate_tokens,
        )


class ModelBackend(Protocol):
    """Anything that answers a chat with at most a few tool calls."""

    @property
    def spec(self) -> ModelSpecData: ...

    async def complete(self, request: ModelRequest) -> ModelReply: ...

    def count_tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolDefinition]
    ) -> int: ...


class BackendError(Exception):
    """A model call failed."""


class RetryableBackendError(BackendError):
    """A transient failure (rate limit, overload, 5xx, network) that outlived our retries."""


class FatalBackendError(BackendError):
    """A failure retrying cannot fix: bad request, bad credentials, missing model, bad spec."""


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def new_call_id() -> str:
    """A fresh id for a tool call whose backend gives none."""
    return f"call_{uuid.uuid4().hex[:24]}"


def backend_from_spec(spec: str, **options: Any) -> ModelBackend:
    """Build a backend from "local", "scripted:NAME", "anthropic:MODEL" or "openai:MODEL".

    Options go to the backend's constructor (e.g. `calls=` for scripted, `base_url=`,
    `api_key=`). openai's base URL falls back to APOLLO_OPENAI_BASE_URL.
    """
    kind, _, model = spec.partition(":")
    # Adapters are imported here, not at the top, so this module stays free of I/O libraries.
    if kind == "local":
        from services.llm.local import LocalBackend

        return LocalBackend(**options)
    if kind == "scripted":
        from services.llm.scripted import ScriptedBackend

        if "calls" not in options:
            raise FatalBackendError(f"{spec!r} needs calls=[ScriptedCall(...), ...] to replay")
        return ScriptedBackend(name=model or "scripted", **options)
    if not model:
        raise FatalBackendError(f"backend spec {spec!r} names no model; write {kind}:MODEL")
    if kind == "anthropic":
        from services.llm.anthropic_messages import AnthropicBackend

        return AnthropicBackend(model=model, **options)
    if kind == "openai":
        from services.llm.openai_chat import OpenAIBackend

        options.setdefault("base_url", os.environ.get("APOLLO_OPENAI_BASE_URL", ""))
        return OpenAIBackend(model=model, **options)
    raise FatalBackendError(
        f"unknown backend {kind!r} in {spec!r}; use local, scripted:NAME, anthropic:MODEL "
        "or openai:MODEL"
    )
