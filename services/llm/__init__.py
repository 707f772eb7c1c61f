"""Model backends behind one port, shared by the policy, the summarizer and the judge.

Import the port from here; adapters (httpx, torch) load only when `backend_from_spec` asks.
"""

from services.llm.port import (
    BackendError,
    ChatMessage,
    FatalBackendError,
    ModelBackend,
    ModelReply,
    ModelRequest,
    ModelSpecData,
    ParseFailure,
    RetryableBackendError,
    SamplingParams,
    ToolCallRequest,
    ToolDefinition,
    backend_from_spec,
)

__all__ = [
    "BackendError",
    "ChatMessage",
    "FatalBackendError",
    "ModelBackend",
    "ModelReply",
    "ModelRequest",
    "ModelSpecData",
    "ParseFailure",
    "RetryableBackendError",
    "SamplingParams",
    "ToolCallRequest",
    "ToolDefinition",
    "backend_from_spec",
]
