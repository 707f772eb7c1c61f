"""TRL's own SFTTrainer trains on the `trl` export as is; masked turns add no loss."""

from __future__ import annotations

import math
from pathlib import Path

import datasets
import pytest
import torch
from dataset_fixture import RULESET, judged_log
from transformers import LlamaConfig, LlamaForCausalLM
from trl import SFTConfig, SFTTrainer

from services.eventlog.archive import InMemoryArchive
from services.trainer.dataset_build import DatasetBuildConfig, build_dataset
from services.trainer.exports import ExportFormat, export_dataset
from services.trainer.tokenization import SampleTokenizer

pytestmark = pytest.mark.timeout(60)
STEPS = 8


async def _trl_export(
    last_command: str, tokenizer: SampleTokenizer, root: Path
) -> datasets.Dataset:
    archive = InMemoryArchive()
    await archive.append(judged_log(last_command).archived())
    config = DatasetBuildConfig(ruleset_version=RULESET, react_upsample=1, summary_upsample=1)
    dataset_id = (await build_dataset(archive, config, tokenizer, root)).manifest["dataset_id"]
    (parquet,) = export_dataset(root, dataset_id, ExportFormat.TRL, root / dataset_id, tokenizer)
    rows = datasets.load_dataset("parquet", data_files=str(parquet), split="train")
    return rows.remove_columns("sample_id")


def _losses(rows: datasets.Dataset, tokenizer: SampleTokenizer, out: Path) -> list[float]:
    torch.manual_seed(0)
    vocabulary = len(tokenizer.tokenizer)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=vocabulary,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            pad_token_id=tokenizer.tokenizer.pad_token_id,
        )
    )
    args = SFTConfig(
        output_dir=str(out),
        max_steps=STEPS,
        per_device_train_batch_size=1,
        learning_rate=5e-3,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        seed=0,
        data_seed=0,
        use_cpu=True,
        dataloader_num_workers=0,
        max_length=None,
        disable_tqdm=True,
    )
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=rows, processing_class=tokenizer.tokenizer
    )
    trainer.train()
    return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]


async def test_sft_trainer_loss_is_finite_and_falls_and_ignores_masked_text(
    tokenizer: SampleTokenizer, tmp_path: Path
) -> None:
    rows = await _trl_export("ls -la", tokenizer, tmp_path / "a")
    assert set(rows.column_names) == {"input_ids", "labels", "attention_mask"}
    losses = _losses(rows, tokenizer, tmp_path / "run-a")
    assert len(losses) == STEPS
    assert all(math.isfinite(loss) for loss in losses)
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3
    # Step 6 is masked and the last answer of its window: only its text changes.
    changed = await _trl_export("rm -rf build && ls -la --color=never", tokenizer, tmp_path / "b")
    assert changed["input_ids"] != rows["input_ids"]
    assert _losses(changed, tokenizer, tmp_path / "run-b") == pytest.approx(losses, rel=1e-4)
