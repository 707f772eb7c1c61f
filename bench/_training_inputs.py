"""Training inputs made on the spot: a tiny random Llama and a built dataset's directory."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import torch
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import WhitespaceSplit
from transformers import (
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
)

PAD, EOS = 0, 1


def tiny_model_dir(
    directory: Path, vocabulary: int = 64, hidden: int = 32, layers: int = 2, seed: int = 0
) -> Path:
    """Write the model and its tokenizer (`<pad>`, `<eos>`, then words w2, w3, …) to `directory`."""
    words = {"<pad>": PAD, "<eos>": EOS} | {f"w{i}": i for i in range(2, vocabulary)}
    backend = Tokenizer(WordLevel(words, unk_token="<pad>"))
    backend.pre_tokenizer = WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>", unk_token="<pad>"
    )
    return tiny_llama(directory, tokenizer, hidden, layers, seed, max_positions=512)


def tiny_llama(
    directory: Path,
    tokenizer: PreTrainedTokenizerBase,
    hidden: int = 32,
    layers: int = 2,
    seed: int = 0,
    max_positions: int = 8192,
) -> Path:
    """A randomly initialised Llama of the tokenizer's whole vocabulary, saved with the
    tokenizer (and so its chat template) to `directory`; a tokenizer without a begin token
    begins with its end token."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=(
            tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        ),
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def write_dataset(artifacts: Path, dataset_id: str, rows: list[dict]) -> Path:
    """A dataset directory as `apollo dataset build` writes it: manifest and samples."""
    directory = artifacts / "datasets" / dataset_id
    directory.mkdir(parents=True)
    manifest = {"dataset_id": dataset_id, "ruleset_version": "made", "tokenizer": "tiny"}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    pq.write_table(pa.Table.from_pylist(rows), directory / "samples.parquet")
    return directory
