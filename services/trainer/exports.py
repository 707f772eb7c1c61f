"""Exports of a dataset for other trainers, all from its canonical rows and one train flag.

slime: `messages` with `step_loss_mask` 0|1 on assistant turns, a `tools` column. TRL:
pre-tokenized `input_ids`, `labels` and `attention_mask`, which SFTTrainer uses as is.
ShareGPT (LLaMA-Factory, SWE-Lego): a per-message `turn_mask` where true means NOT trained.
tokens: `input_ids` and `labels`. Every export repeats a sample its `upsample` times.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from services.trainer.dataset_store import expand_upsampled, load_dataset_rows, read_manifest
from services.trainer.samples import ASSISTANT
from services.trainer.tokenization import SampleTokenizer

_SHAREGPT_ROLES = {"user": "human", "assistant": "gpt", "tool": "observation"}


class ExportFormat(StrEnum):
    """The trainers a dataset can be exported for."""

    SLIME = "slime"
    TRL = "trl"
    SHAREGPT = "sharegpt"
    TOKENS = "tokens"

    @property
    def tokenized(self) -> bool:
        """Whether the export carries the dataset's tokens (so its tokenizer must match)."""
        return self in (ExportFormat.TRL, ExportFormat.TOKENS)


def export_dataset(
    artifacts_root: Path,
    dataset_id: str,
    export_format: ExportFormat,
    out: Path,
    tokenizer: SampleTokenizer | None = None,
) -> list[Path]:
    """Write the export's files into `out`; a given tokenizer must be the dataset's."""
    manifest = read_manifest(artifacts_root, dataset_id)
    if tokenizer is not None and export_format.tokenized:
        tokenizer.check_is(manifest["tokenizer"])
    rows = [
        _EXPORTERS[export_format](row)
        for row in expand_upsampled(load_dataset_rows(artifacts_root, dataset_id))
    ]
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"{export_format.value}.parquet"]
    pq.write_table(pa.Table.from_pylist([_parquet_safe(row) for row in rows]), written[0])
    if not export_format.tokenized:
        written.append(out / f"{export_format.value}.jsonl")
        with written[1].open("w") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return written


def _parquet_safe(row: dict) -> dict:
    # Tool parameter schemas differ in shape from tool to tool; one Parquet column cannot
    # hold them as structs, so Parquet keeps the tool list as JSON text.
    return {**row, "tools": json.dumps(row["tools"])} if "tools" in row else row


def slime_row(row: dict) -> dict:
    """OpenAI-style messages, `step_loss_mask` on assistant turns, tools beside them."""
    messages = []
    for message in row["messages"]:
        shown: dict = {"role": message["role"], "content": message["content"]}
        if message["tool_calls"]:
            shown["tool_calls"] = [
                {
                    "id": call["call_id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments_json"]},
                }
                for call in message["tool_calls"]
            ]
        if message["tool_call_id"]:
            shown["tool_call_id"] = message["tool_call_id"]
        if message["role"] == ASSISTANT:
            shown["step_loss_mask"] = 1 if message["train"] else 0
        messages.append(shown)
    tools = [{"type": "function", "function": tool} for tool in json.loads(row["tools"])]
    return {"sample_id": row["sample_id"], "messages": messages, "tools": tools}


def sharegpt_row(row: dict) -> dict:
    """LLaMA-Factory's ShareGPT layout; `turn_mask` true on every turn that is not trained."""
    system = ""
    conversations = []
    for message in row["messages"]:
        if message["role"] == "system":
            system = message["content"]
            continue
        role = _SHAREGPT_ROLES[message["role"]]
        value = message["content"]
        if message["tool_calls"]:
            call = message["tool_calls"][0]
            role = "function_call"
            value = json.dumps(
                {"name": call["name"], "arguments": json.loads(call["arguments_json"] or "{}")},
                ensure_ascii=False,
            )
        conversations.append({"from": role, "value": value, "turn_mask": not message["train"]})
    return {
        "sample_id": row["sample_id"],
        "system": system,
        "tools": json.loads(row["tools"]),
        "conversations": conversations,
    }


def trl_row(row: dict) -> dict:
    """Token ids, labels (-100: no loss) and the attention mask, which SFTTrainer uses as is."""
    return {**tokens_row(row), "attention_mask": [1] * len(row["input_ids"])}


def tokens_row(row: dict) -> dict:
    """The sample's token ids and labels."""
    return {"sample_id": row["sample_id"], "input_ids": row["input_ids"], "labels": row["labels"]}


_EXPORTERS: dict[ExportFormat, Callable[[dict], dict]] = {
    ExportFormat.SLIME: slime_row,
    ExportFormat.TRL: trl_row,
    ExportFormat.SHAREGPT: sharegpt_row,
    ExportFormat.TOKENS: tokens_row,
}
