"""The local SmolLM2 backend on CPU: exact token counts, generation, clean failures."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from services.llm import ChatMessage, FatalBackendError, Prompt, SamplingParams
from services.llm.local import LocalBackend
from services.llm.local_model import STOP_TEXT, LocalModel, ModelNotFetchedError, _StopAfterText
from services.llm.model_files import gguf_path
from services.llm.port import ToolDefinition
from services.llm.text_tools import CALL_OPEN, render_text_conversation

REPO = Path(__file__).resolve().parents[2]
TOOLS = (
    ToolDefinition(
        "run_command",
        "Run a shell command and return its output.",
        json.dumps(
            {
                "type": "object",
                "properties": {"command": {"type": "string"}},
                "required": ["command"],
            }
        ),
    ),
    ToolDefinition("finish", "End the task.", json.dumps({"type": "object", "properties": {}})),
)
MESSAGES = (
    ChatMessage("system", "You are an agent in a Linux workspace. Call one tool per turn."),
    ChatMessage("user", "List the files in the workspace."),
)
GREEDY = SamplingParams(temperature=0.0, max_tokens=24)


@pytest.mark.timeout(60)
async def test_a_missing_model_is_a_fatal_error_that_says_how_to_fetch_it(tmp_path: Path) -> None:
    backend = LocalBackend(model_dir=tmp_path)
    with pytest.raises(ModelNotFetchedError, match="scripts/fetch-local-model"):
        await backend.complete(Prompt(MESSAGES, TOOLS))


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_count_tokens_is_the_length_of_the_chat_templated_prompt(
    local_backend: LocalBackend, loaded: LocalModel
) -> None:
    conversation = render_text_conversation(MESSAGES, TOOLS)
    text = loaded.tokenizer.apply_chat_template(
        conversation, add_generation_prompt=True, tokenize=False
    )
    assert text.startswith("<|im_start|>system\nYou are an agent")
    assert text.endswith("<|im_start|>assistant\n")
    expected = len(loaded.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert local_backend.count_tokens(MESSAGES, TOOLS) == expected
    assert local_backend.count_tokens(MESSAGES, ()) < expected


@pytest.mark.integration
@pytest.mark.timeout(300)
async def test_generation_gives_a_parsed_call_or_a_clean_reply_without_one(
    local_backend: LocalBackend,
) -> None:
    reply = await local_backend.complete(Prompt(MESSAGES, TOOLS, GREEDY))
    assert reply.text.strip()
    if reply.tool_calls:
        assert all(
            call.name and json.loads(call.arguments_json) is not None for call in reply.tool_calls
        )
        assert reply.parse_failure is None
    else:
        assert reply.parse_failure is not None
    assert reply.usage.prompt_tokens == local_backend.count_tokens(MESSAGES, TOOLS)
    assert 0 < reply.usage.completion_tokens <= GREEDY.max_tokens
    assert not reply.usage.approximate
    assert reply.latency_ms > 0
    assert local_backend.spec.to_proto().backend == "local"


@pytest.mark.integration
@pytest.mark.timeout(300)
async def test_without_the_constraint_the_answer_is_free(local_backend: LocalBackend) -> None:
    free = LocalBackend(constrain_tool_calls=False)
    reply = await free.complete(Prompt(MESSAGES, TOOLS, GREEDY))
    # Greedy SmolLM2 copies the format's placeholder when left alone (why the constraint exists).
    assert not reply.text.startswith(CALL_OPEN), reply.text


@pytest.mark.integration
@pytest.mark.timeout(300)
async def test_concurrent_seeded_calls_are_serialized_and_reproducible(
    local_backend: LocalBackend,
) -> None:
    request = Prompt(MESSAGES, TOOLS, SamplingParams(temperature=1.0, max_tokens=12, seed=5))
    first, second = await asyncio.gather(
        local_backend.complete(request), local_backend.complete(request)
    )
    assert first.text == second.text


@pytest.mark.integration
@pytest.mark.timeout(300)
async def test_a_prompt_longer_than_the_context_is_refused(local_backend: LocalBackend) -> None:
    huge = ChatMessage("user", "files " * 9000)
    with pytest.raises(FatalBackendError, match="context"):
        await local_backend.complete(Prompt((huge,), TOOLS, GREEDY))


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_generation_stops_right_after_a_closed_tool_call(loaded: LocalModel) -> None:
    prompt = loaded.tokenizer("Prompt.")["input_ids"]
    open_call = loaded.tokenizer('<tool_call>\n{"name": "finish"}')["input_ids"]
    stop = _StopAfterText(loaded.tokenizer, len(prompt), STOP_TEXT)
    still_open = torch.tensor([prompt + open_call])
    closed = torch.tensor([prompt + open_call + loaded.tokenizer("\n" + STOP_TEXT)["input_ids"]])
    assert not stop(still_open, None).item()
    assert stop(closed, None).item()


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_fetch_script_is_idempotent(local_backend: LocalBackend) -> None:
    result = subprocess.run(
        [REPO / "scripts" / "fetch-local-model"],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == str(gguf_path())
