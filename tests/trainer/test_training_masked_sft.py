"""Masked SFT through TRL's SFTTrainer on a tiny random model: it learns from trained turns only."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from rich.console import Console
from training_fixtures import (
    VOCABULARY,
    Turn,
    agent_dataset,
    agent_turns,
    sample_row,
    tiny_base_model,
    write_dataset,
)
from transformers import AutoModelForCausalLM

from services.trainer.checkpoints import EVENT_FILE, TRAINER_STATE_FILE
from services.trainer.training import BaseModelError, TrainingRun, train
from services.trainer.training_config import TrainingRecipe
from services.trainer.training_data import TrainingDataError

QUIET = Console(quiet=True)
FAST = TrainingRecipe(learning_rate=3e-3, per_device_batch=2, grad_accum=1, max_steps=12)


def _losses(directory: Path) -> list[float]:
    state = json.loads((directory / TRAINER_STATE_FILE).read_text())
    return [entry["loss"] for entry in state["log_history"] if "loss" in entry]


def _run(tmp_path: Path, dataset: Path, recipe: TrainingRecipe = FAST) -> TrainingRun:
    base = tmp_path / "base"
    if not base.is_dir():
        tiny_base_model(base)
    return TrainingRun(dataset, str(base), recipe, tmp_path / "artifacts")


@pytest.mark.timeout(300)
def test_sft_trains_a_tiny_model_with_a_finite_falling_loss(tmp_path: Path) -> None:
    dataset = agent_dataset(tmp_path / "artifacts", "ds-agent")
    run = _run(tmp_path, dataset)
    saved = train(run, QUIET)
    assert saved is not None
    losses = _losses(saved.directory)
    assert len(losses) == 12
    assert all(math.isfinite(loss) for loss in losses)
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 * 0.9, losses
    before = AutoModelForCausalLM.from_pretrained(run.base_model)
    after = AutoModelForCausalLM.from_pretrained(saved.directory)
    changed = [
        name
        for (name, old), (_, new) in zip(
            before.named_parameters(), after.named_parameters(), strict=True
        )
        if not torch.equal(old, new)
    ]
    assert len(changed) == len(list(before.parameters()))
    body = saved.body
    assert body.dataset_id == "ds-agent"
    assert body.optimizer_step == 12
    assert body.uri == f"checkpoints/{body.checkpoint_id}"
    assert body.metrics["final_loss"] == pytest.approx(losses[-1])
    # 9 rows (one counted twice) in batches of 2: 12 steps are 5 + 5 + 2 batches, 22 samples,
    # each with 13 trained tokens (the counting turn and its end).
    assert body.metrics["trained_tokens"] == 22 * 13
    assert body.metrics["tokens_per_second"] > 0


@pytest.mark.timeout(300)
def test_a_finished_run_is_not_trained_again(tmp_path: Path) -> None:
    run = _run(tmp_path, agent_dataset(tmp_path / "artifacts", "ds-again"))
    first = train(run, QUIET)
    second = train(run, QUIET)
    assert first is not None
    assert second is not None
    assert second.directory == first.directory
    # The same event (same id), so recording it again is deduplicated.
    assert second.event == first.event
    assert (first.directory / EVENT_FILE).is_file()


@pytest.mark.timeout(300)
def test_the_loss_is_per_token_over_the_trained_tokens_of_the_batch(tmp_path: Path) -> None:
    short = [Turn([5, 6, 7], trained=False), Turn([8, 9, 10], trained=True)]
    long = [Turn([11, 12], trained=False), Turn([(3 * i) % 60 + 2 for i in range(40)], True)]
    rows = [sample_row("short", short), sample_row("long", long)]
    dataset = write_dataset(tmp_path / "artifacts", "ds-tokens", rows)
    run = _run(tmp_path, dataset, FAST.model_copy(update={"max_steps": 1}))
    model = AutoModelForCausalLM.from_pretrained(run.base_model)
    sums, counts = [], []
    with torch.no_grad():
        for row in rows:
            logits = model(torch.tensor([row["input_ids"]])).logits[0, :-1]
            targets = torch.tensor(row["labels"][1:])
            losses = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
            sums.append(float(losses[targets != -100].sum()))
            counts.append(int((targets != -100).sum()))
    per_token = sum(sums) / sum(counts)
    per_sample = sum(s / n for s, n in zip(sums, counts, strict=True)) / len(rows)
    saved = train(run, QUIET)
    assert saved is not None
    (logged,) = _losses(saved.directory)
    assert logged == pytest.approx(per_token, rel=1e-4)
    assert abs(logged - per_token) < abs(logged - per_sample) / 10


@pytest.mark.timeout(300)
def test_changing_a_masked_turn_leaves_the_loss_unchanged(tmp_path: Path) -> None:
    """A masked turn still conditions what follows it (the policy saw it), so the changed turn
    is the last one; changing a trained turn instead must move the loss."""
    artifacts = tmp_path / "artifacts"

    def dataset(name: str, change: str | None) -> Path:
        rows = []
        for i in range(6):
            turns = agent_turns(i, masked_tail=[7] * 6 if change == "masked" else None)
            if change == "trained":
                turns[1] = Turn([(token + 5) % VOCABULARY for token in turns[1].tokens], True)
            rows.append(sample_row(f"s{i}", turns))
        return write_dataset(artifacts, name, rows)

    original = _losses(train(_run(tmp_path, dataset("ds-original", None)), QUIET).directory)
    masked = _losses(train(_run(tmp_path, dataset("ds-masked", "masked")), QUIET).directory)
    trained = _losses(train(_run(tmp_path, dataset("ds-trained", "trained")), QUIET).directory)
    assert masked == pytest.approx(original, rel=1e-6)
    assert trained != pytest.approx(original, rel=1e-3)


@pytest.mark.timeout(300)
def test_lora_is_merged_into_a_plain_model_directory(tmp_path: Path) -> None:
    dataset = agent_dataset(tmp_path / "artifacts", "ds-lora")
    recipe = FAST.model_copy(update={"lora": True, "lora_rank": 4, "max_steps": 4})
    saved = train(_run(tmp_path, dataset, recipe), QUIET)
    assert saved is not None
    assert not (saved.directory / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(saved.directory)
    base = AutoModelForCausalLM.from_pretrained(tmp_path / "base")
    assert not torch.equal(
        merged.model.layers[0].self_attn.q_proj.weight, base.model.layers[0].self_attn.q_proj.weight
    )


@pytest.mark.timeout(120)
def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"
    with pytest.raises(TrainingDataError, match="apollo dataset build"):
        train(_run(tmp_path, artifacts / "datasets" / "missing"), QUIET)
    dataset = agent_dataset(artifacts, "ds-errors")
    with pytest.raises(BaseModelError, match=r"config\.json"):
        train(TrainingRun(dataset, str(tmp_path / "nowhere"), FAST, artifacts), QUIET)
    foreign = write_dataset(
        artifacts, "ds-foreign", [sample_row("s", [Turn([3, VOCABULARY + 5], trained=True)])]
    )
    with pytest.raises(TrainingDataError, match="tokenized for another model"):
        train(_run(tmp_path, foreign), QUIET)
    assert not (artifacts / "checkpoints").exists()
