"""The prompt as plain values, its canonical serialization and its digest (no I/O).

These are also the model port's request values (services.llm.port imports them), so the
prompt the trajectory renders is exactly what a backend is given.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from apollo.v1 import events_pb2 as pb
from services.trajectory.canonical import canonical_json


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """One tool call the model asked for; arguments as canonical JSON."""

    call_id: str
    name: str
    arguments_json: str

    def to_proto(self) -> pb.ToolCall:
        """The call as ActionProposed records it."""
        return pb.ToolCall(call_id=self.call_id, name=self.name, arguments_json=self.arguments_json)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One chat message: role "system", "user", "assistant" or "tool"."""

    role: str
    content: str
    tool_calls: tuple[ToolCallRequest, ...] = ()  # assistant turns only
    # The call a "tool" message answers.
    tool_call_id: str = ""

    def as_json(self) -> dict:
        """The message as plain JSON values, as the canonical prompt spells it."""
        return {
            "role": self.role,
            "content": self.content,
            "tool_calls": [
                {"call_id": c.call_id, "name": c.name, "arguments_json": c.arguments_json}
                for c in self.tool_calls
            ],
            "tool_call_id": self.tool_call_id,
        }


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    """A tool as shown to the model; its argument schema as JSON Schema text."""

    name: str
    description: str
    parameters_json_schema: str

    @classmethod
    def from_proto(cls, spec: pb.ToolSpec) -> ToolDefinition:
        """The tool of a `TrajectoryStarted.tools` entry."""
        return cls(spec.name, spec.description, spec.parameters_json_schema)

    def to_proto(self) -> pb.ToolSpec:
        """The tool as a `ToolSpec`."""
        return pb.ToolSpec(
            name=self.name,
            description=self.description,
            parameters_json_schema=self.parameters_json_schema,
        )


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """How to sample, part of what the digest covers; the defaults are the paper's."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 8192
    seed: int | None = None

    @classmethod
    def from_proto(cls, params: pb.SamplingParams) -> SamplingParams:
        """The parameters of a `ModelSpec.sampling`."""
        seed = params.seed if params.HasField("seed") else None
        return cls(params.temperature, params.top_p, params.max_tokens, seed)

    def to_proto(self) -> pb.SamplingParams:
        """The parameters as a `ModelSpec.sampling`."""
        return pb.SamplingParams(
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens,
            seed=self.seed,
        )


@dataclass(frozen=True, slots=True)
class Prompt:
    """Exactly what a model call is given: messages, tools and sampling parameters."""

    messages: tuple[ChatMessage, ...]
    tools: tuple[ToolDefinition, ...]
    sampling: SamplingParams = SamplingParams()

    def canonical_json(self) -> str:
        """Sorted-key compact JSON of messages, tools and sampling: what the digest hashes."""
        head, tail = self._canonical_frame()
        return head + ",".join(_message_json(m) for m in self.messages) + tail

    @property
    def digest(self) -> str:
        """The "sha256:<hex>" of the canonical JSON, recorded as `prompt_digest`."""
        return "sha256:" + hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def prefix_digests(self) -> list[str]:
        """Entry k: the digest of this prompt cut to its first k messages (k = 0..n), each
        message serialized and hashed once rather than once per prefix holding it."""
        head, tail = self._canonical_frame()
        running = hashlib.sha256(head.encode())
        digests = [_closed_digest(running, tail)]
        for index, message in enumerate(self.messages):
            running.update((("," if index else "") + _message_json(message)).encode())
            digests.append(_closed_digest(running, tail))
        return digests

    def _canonical_frame(self) -> tuple[str, str]:
        """The canonical JSON around the messages: up to the list's first item, and from its
        end on. "messages" sorts first, so the list opens the document."""
        document = {
            "messages": [],
            "tools": [
                {
                    "name": t.name,
                    "description": t.description,
                    "parameters_json_schema": t.parameters_json_schema,
                }
                for t in self.tools
            ],
            "sampling": {
                "temperature": self.sampling.temperature,
                "top_p": self.sampling.top_p,
                "max_tokens": self.sampling.max_tokens,
                "seed": self.sampling.seed,
            },
        }
        empty = canonical_json(document)
        return _MESSAGES_OPEN, empty[len(_MESSAGES_OPEN) :]


_MESSAGES_OPEN = '{"messages":['


def _message_json(message: ChatMessage) -> str:
    return canonical_json(message.as_json())


def _closed_digest(running: hashlib._Hash, tail: str) -> str:
    """The digest of what `running` has hashed so far followed by `tail`."""
    closed = running.copy()
    closed.update(tail.encode())
    return "sha256:" + closed.hexdigest()
