"""The golden dataset: exact windows, labels only on unmasked assistant turns, one decision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataset_fixture import MASK_RULE, RULESET, JudgedLog

from services.eventlog.archive import InMemoryArchive
from services.llm.text_tools import render_text_conversation
from services.trainer.dataset_build import DatasetBuildConfig, build_dataset
from services.trainer.dataset_store import load_dataset_rows
from services.trainer.exports import ExportFormat, export_dataset
from services.trainer.tokenization import IGNORE_INDEX, SampleTokenizer
from services.trajectory import fold
from services.trajectory.prompt import render_action_prompt
from services.trajectory.prompt_model import ChatMessage, ToolCallRequest, ToolDefinition

pytestmark = pytest.mark.timeout(30)


def _messages(row: dict) -> list[ChatMessage]:
    return [
        ChatMessage(
            m["role"],
            m["content"],
            tuple(
                ToolCallRequest(c["call_id"], c["name"], c["arguments_json"])
                for c in m["tool_calls"]
            ),
            m["tool_call_id"],
        )
        for m in row["messages"]
    ]


def _tools(row: dict) -> list[ToolDefinition]:
    return [
        ToolDefinition(t["name"], t["description"], json.dumps(t["parameters"]))
        for t in json.loads(row["tools"])
    ]


def _window_text(
    tokenizer: SampleTokenizer, messages: list[ChatMessage], tools, prompt: bool
) -> str:
    conversation = render_text_conversation(messages, tools)
    return tokenizer.tokenizer.apply_chat_template(
        conversation, tokenize=False, add_generation_prompt=prompt
    )


@pytest.fixture
async def rows(archive: InMemoryArchive, tokenizer: SampleTokenizer, tmp_path: Path) -> list[dict]:
    await build_dataset(archive, DatasetBuildConfig(ruleset_version=RULESET), tokenizer, tmp_path)
    (dataset_id,) = [p.name for p in (tmp_path / "datasets").iterdir()]
    return load_dataset_rows(tmp_path, dataset_id)


def test_one_sample_per_window_and_per_summary_call(rows: list[dict]) -> None:
    kinds = [(row["kind"], row["window_index"]) for row in rows]
    assert kinds == [("react", 0), ("react", 1), ("react", 2), ("summary", 0), ("summary", 1)]
    assert {row["upsample"] for row in rows if row["kind"] == "react"} == {7}
    assert {row["upsample"] for row in rows if row["kind"] == "summary"} == {10}


def test_every_window_is_the_prompts_the_policy_saw(rows: list[dict], log: JudgedLog) -> None:
    state = fold(log.book.events)
    by_id = {action.event_id: action for action in log.actions}
    react = [row for row in rows if row["kind"] == "react"]
    # Windows: steps 0-2 (no summary), 3-4 (after the summary of 0-1), 5-6 (after 0-3). After
    # a summary, its assistant turn and the step after its span (2, then 4) are context.
    windows = [([0, 1, 2], 0), ([3, 4], 2), ([5, 6], 2)]
    for row, (steps, context) in zip(react, windows, strict=True):
        messages = _messages(row)
        positions = [i for i, m in enumerate(messages) if m.role == "assistant"]
        assert len(positions) == len(steps) + context
        assert all(row["messages"][p]["train"] is False for p in positions[:context])
        for step, position in zip(steps, positions[context:], strict=True):
            action = next(a for a in by_id.values() if a.action_proposed.step_index == step)
            prompt = render_action_prompt(state, action)
            assert tuple(messages[:position]) == prompt.messages


def test_decoded_tokens_are_the_rendered_window_and_labels_cover_unmasked_turns(
    rows: list[dict], tokenizer: SampleTokenizer
) -> None:
    decode = tokenizer.tokenizer.decode
    end = tokenizer.tokenizer.eos_token
    for row in rows:
        messages, tools = _messages(row), _tools(row)
        assert decode(row["input_ids"]) == _window_text(tokenizer, messages, tools, prompt=False)
        conversation = render_text_conversation(messages, tools)
        trained = [
            conversation[i]["content"] + end for i, m in enumerate(row["messages"]) if m["train"]
        ]
        runs, current = [], []
        for token, label in zip(row["input_ids"], row["labels"], strict=True):
            assert label in (token, IGNORE_INDEX)
            if label != IGNORE_INDEX:
                current.append(token)
            elif current:
                runs.append(current)
                current = []
        if current:
            runs.append(current)
        assert [decode(run) for run in runs] == trained


def test_masked_turns_carry_their_rules_and_no_loss(rows: list[dict]) -> None:
    assistant = [
        m
        for row in rows
        if row["kind"] == "react"
        for m in row["messages"]
        if m["role"] == "assistant"
    ]
    masked = [m for m in assistant if m["mask_rules"]]
    assert len(masked) == 3  # steps 2, 4 and 6, each in the window that proposed it
    assert all(m["mask_rules"] == [MASK_RULE] and m["train"] is False for m in masked)
    others = [m for row in rows for m in row["messages"] if m["role"] != "assistant"]
    assert all(m["train"] is None for m in others)


async def test_slime_and_sharegpt_exports_carry_the_same_turn_decisions(
    archive: InMemoryArchive, tokenizer: SampleTokenizer, tmp_path: Path
) -> None:
    import datasets

    outcome = await build_dataset(
        archive, DatasetBuildConfig(ruleset_version=RULESET), tokenizer, tmp_path
    )
    dataset_id = outcome.manifest["dataset_id"]
    slime = export_dataset(tmp_path, dataset_id, ExportFormat.SLIME, tmp_path / "slime")
    sharegpt = export_dataset(tmp_path, dataset_id, ExportFormat.SHAREGPT, tmp_path / "sharegpt")
    slime_rows = datasets.load_dataset("json", data_files=str(slime[1]), split="train")
    share_rows = datasets.load_dataset("parquet", data_files=str(sharegpt[0]), split="train")
    assert len(slime_rows) == len(share_rows) == 3 * 7 + 2 * 10
    for slime_row, share_row in zip(slime_rows, share_rows, strict=True):
        trained_slime = [
            m["step_loss_mask"] == 1 for m in slime_row["messages"] if m["role"] == "assistant"
        ]
        trained_share = [
            not turn["turn_mask"]
            for turn in share_row["conversations"]
            if turn["from"] in ("gpt", "function_call")
        ]
        assert trained_slime == trained_share
        assert any(trained_slime)
        assert all(
            t["turn_mask"]
            for t in share_row["conversations"]
            if t["from"] not in ("gpt", "function_call")
        )
