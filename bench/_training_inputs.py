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
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

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
    config = LlamaConfig(
        vocab_size=vocabulary,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=PAD,
        eos_token_id=EOS,
        bos_token_id=EOS,
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
