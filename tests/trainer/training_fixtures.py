"""Tiny models and hand-made datasets for the training tests (nothing is downloaded)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import torch
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import WhitespaceSplit
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

VOCABULARY = 64
PAD, EOS = 0, 1
MASKED = -100


def tiny_base_model(directory: Path, seed: int = 0) -> Path:
    """A randomly initialised 2-layer Llama with a word-level tokenizer, saved to `directory`."""
    words = {"<pad>": PAD, "<eos>": EOS} | {f"w{i}": i for i in range(2, VOCABULARY)}
    backend = Tokenizer(WordLevel(words, unk_token="<pad>"))
    backend.pre_tokenizer = WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>", unk_token="<pad>"
    )
    config = LlamaConfig(
        vocab_size=VOCABULARY,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=PAD,
        eos_token_id=EOS,
        bos_token_id=EOS,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@dataclass(frozen=True)
class Turn:
    """A span of a sample: its tokens and whether they are trained."""

    tokens: list[int]
    trained: bool


def sample_row(sample_id: str, turns: list[Turn], upsample: int = 1) -> dict:
    """One `samples.parquet` row: input ids, and labels that are -100 off the trained turns."""
    input_ids = [token for turn in turns for token in turn.tokens]
    labels = [token if turn.trained else MASKED for turn in turns for token in turn.tokens]
    return {
        "sample_id": sample_id,
        "kind": "react",
        "trajectory_id": f"trajectory-{sample_id}",
        "upsample": upsample,
        "input_ids": input_ids,
        "labels": labels,
    }


def agent_turns(seed: int, masked_tail: list[int] | None = None) -> list[Turn]:
    """A prompt, a trained assistant turn that counts upwards (learnable), a tool result, and a
    masked assistant turn at the end (random unless given)."""
    rng = random.Random(seed)
    start = rng.randrange(2, 20)
    prompt = [rng.randrange(2, VOCABULARY) for _ in range(8)]
    tool = [rng.randrange(2, VOCABULARY) for _ in range(5)]
    tail = masked_tail or [rng.randrange(2, VOCABULARY) for _ in range(6)]
    return [
        Turn(prompt, trained=False),
        Turn([*range(start, start + 12), EOS], trained=True),
        Turn(tool, trained=False),
        Turn(tail, trained=False),
    ]


def write_dataset(artifacts: Path, dataset_id: str, rows: list[dict]) -> Path:
    """A dataset directory as `apollo dataset build` writes it: manifest and samples."""
    directory = artifacts / "datasets" / dataset_id
    directory.mkdir(parents=True)
    manifest = {"dataset_id": dataset_id, "ruleset_version": "test", "tokenizer": "tiny"}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    pq.write_table(pa.Table.from_pylist(rows), directory / "samples.parquet")
    return directory


def agent_dataset(artifacts: Path, dataset_id: str, samples: int = 8) -> Path:
    """A dataset of `samples` agent samples (the first counted twice)."""
    rows = [
        sample_row(f"s{i}", agent_turns(i), upsample=2 if i == 0 else 1) for i in range(samples)
    ]
    return write_dataset(artifacts, dataset_id, rows)
