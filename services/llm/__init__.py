"""Model backends behind one port, shared by the policy, the summarizer and the judge.

Import the port from here; adapters (the model SDKs, torch) load only when
`backend_from_spec` asks.
"""

from services.llm.backend_spec import backend_from_spec
from services.llm.port import (
    BackendError,
    ChatMessage,
    FatalBackendError,
    ModelBackend,
    ModelReply,
    ModelSpecData,
    ParseFailure,
    Prompt,
    RetryableBackendError,
    SamplingParams,
    TokenUsage,
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
    "backend_from_spec",
]
