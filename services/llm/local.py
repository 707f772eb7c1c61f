"""The default backend: SmolLM2-135M-Instruct or a checkpoint, in transformers; tools as text."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import structlog

from services.llm.call_grammar import UnusableToolSchema, call_grammar
from services.llm.local_model import LocalModel, is_model_directory, load_local_model
from services.llm.model_files import GGUF_NAME
from services.llm.port import (
    ChatMessage,
    FatalBackendError,
    ModelReply,
    ModelSpecData,
    Prompt,
    SamplingParams,
    TokenUsage,
    ToolDefinition,
)
from services.llm.settings import model_backend_settings
from services.llm.text_tools import parse_tool_calls, render_text_conversation

log = structlog.get_logger(__name__)


class LocalBackend:
    """Generates in a worker thread, one generation at a time per loaded model."""

    def __init__(
        self,
        model_dir: Path | None = None,
        max_new_tokens: int | None = None,
        constrain_tool_calls: bool | None = None,
    ) -> None:
        settings = model_backend_settings()
        self._directory = model_dir or settings.model_dir
        self._max_new_tokens = max_new_tokens or settings.local_max_new_tokens
        self._constrain = (
            settings.local_constrain_tool_calls
            if constrain_tool_calls is None
            else constrain_tool_calls
        )
        # A checkpoint is named by its directory, as in the spec `local:DIR` that runs it.
        directory = self._directory
        name = str(directory) if is_model_directory(directory) else Path(GGUF_NAME).stem
        self._spec = ModelSpecData(backend="local", model=name)

    @property
    def spec(self) -> ModelSpecData:
        return self._spec

    def loaded_model(self) -> LocalModel:
        """The loaded model, loading it (blocking) on first use."""
        return load_local_model(self._directory)

    async def load(self) -> None:
        """Load (on first use, convert) the model off the event loop; call it at start-up."""
        await asyncio.to_thread(self.loaded_model)

    async def complete(self, prompt: Prompt) -> ModelReply:
        """Generate an answer and parse its tool call; unparseable text gives no call."""
        started = time.perf_counter()
        conversation = render_text_conversation(prompt.messages, prompt.tools)
        text, prompt_tokens, completion_tokens = await asyncio.to_thread(
            self._generate, conversation, prompt.sampling, self._grammar(prompt.tools)
        )
        parsed = parse_tool_calls(text)
        return ModelReply(
            text=text,
            tool_calls=parsed if isinstance(parsed, tuple) else (),
            usage=TokenUsage(prompt_tokens, completion_tokens, approximate=False),
            latency_ms=round((time.perf_counter() - started) * 1000),
            parse_failure=None if isinstance(parsed, tuple) else parsed,
        )

    def count_tokens(self, messages: Sequence[ChatMessage], tools: Sequence[ToolDefinition]) -> int:
        """Exact: the length of the chat-templated prompt, generation prompt included."""
        return len(self.loaded_model().template(render_text_conversation(messages, tools)))

    def _grammar(self, tools: Sequence[ToolDefinition]) -> str | None:
        """The call grammar for `tools`; None without tools (the summarizer's requests), with
        the constraint off, or when a schema defeats the grammar (then the answer is free)."""
        if not tools or not self._constrain:
            return None
        try:
            return call_grammar(tuple(tools))
        except UnusableToolSchema as error:
            log.warning("call_grammar_unusable", error=str(error))
            return None

    def _generate(
        self, conversation: list[dict[str, str]], sampling: SamplingParams, grammar: str | None
    ) -> tuple[str, int, int]:
        loaded = self.loaded_model()
        prompt_ids = loaded.template(conversation)
        room = loaded.context_tokens - len(prompt_ids)
        if room <= 0:
            raise FatalBackendError(
                f"the prompt has {len(prompt_ids)} tokens, the model's context only "
                f"{loaded.context_tokens}; lower the summary threshold"
            )
        generated = loaded.generate(
            prompt_ids,
            max_new_tokens=min(sampling.max_tokens, self._max_new_tokens, room),
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            seed=sampling.seed,
            grammar=grammar,
        )
        return loaded.decode(generated), len(prompt_ids), len(generated)
