"""SmolLM2-135M on CPU: a few masked SFT steps lower the loss; the local backend runs the result."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from rich.console import Console
from training_fixtures import write_dataset
from transformers import AutoTokenizer

from services.llm import ChatMessage, Prompt, SamplingParams
from services.llm.local import LocalBackend
from services.llm.model_files import gguf_path, models_dir
from services.trainer.checkpoints import TRAINER_STATE_FILE
from services.trainer.training import LOCAL_BASE_MODEL, TrainingRun, base_model_dir, train
from services.trainer.training_config import TrainingRecipe

STEPS = 20
TASKS = [
    ("List the files in the workspace.", "ls -la"),
    ("Show the current directory.", "pwd"),
    ("Print the first lines of notes.txt.", "head notes.txt"),
    ("Count the lines of data.csv.", "wc -l data.csv"),
    ("Find every Python file.", "find . -name '*.py'"),
    ("Show the disk usage here.", "du -sh ."),
]


def _rows(tokenizer) -> list[dict]:
    """One sample per task: the loss on the assistant's answer only."""
    rows = []
    for number, (question, command) in enumerate(TASKS):
        prompt = [
            {"role": "system", "content": "You are an agent in a Linux workspace."},
            {"role": "user", "content": question},
        ]
        answer = {"role": "assistant", "content": f"```bash\n{command}\n```"}
        prefix = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True)
        whole = tokenizer.apply_chat_template([*prompt, answer], tokenize=True)
        prefix_ids, ids = list(prefix["input_ids"]), list(whole["input_ids"])
        assert ids[: len(prefix_ids)] == prefix_ids
        labels = [-100] * len(prefix_ids) + ids[len(prefix_ids) :]
        rows.append(
            {"sample_id": f"s{number}", "kind": "react", "trajectory_id": f"t{number}",
             "upsample": 1, "input_ids": ids, "labels": labels}
        )  # fmt: skip
    return rows


@pytest.mark.integration
@pytest.mark.timeout(900)
def test_smollm2_learns_in_twenty_steps_and_the_local_backend_runs_it(tmp_path: Path) -> None:
    if not gguf_path().is_file():
        pytest.skip(
            f"the local model is not fetched into {models_dir()}: scripts/fetch-local-model"
        )
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir(LOCAL_BASE_MODEL))
    dataset = write_dataset(tmp_path / "artifacts", "ds-smollm2", _rows(tokenizer))
    recipe = TrainingRecipe(
        learning_rate=1e-4, per_device_batch=2, grad_accum=1, max_steps=STEPS, save_steps=STEPS
    )
    started = time.perf_counter()
    saved = train(
        TrainingRun(dataset, LOCAL_BASE_MODEL, recipe, tmp_path / "artifacts"), Console(quiet=True)
    )
    wall_s = time.perf_counter() - started
    assert saved is not None
    state = json.loads((saved.directory / TRAINER_STATE_FILE).read_text())
    losses = [entry["loss"] for entry in state["log_history"] if "loss" in entry]
    print(f"SmolLM2 {STEPS} steps in {wall_s:.1f}s; loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    assert len(losses) == STEPS
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 * 0.8, losses

    backend = LocalBackend(model_dir=saved.directory)
    assert backend.spec.model == str(saved.directory)
    prompt = Prompt(
        (
            ChatMessage("system", "You are an agent in a Linux workspace."),
            ChatMessage("user", "List the files in the workspace."),
        ),
        (),
        SamplingParams(temperature=0.0, max_tokens=16),
    )
    reply = asyncio.run(backend.complete(prompt))
    print(f"checkpoint answered: {reply.text!r}")
    assert reply.text.strip()
    assert reply.usage.completion_tokens > 0
