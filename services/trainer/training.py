"""Masked SFT of a base model on a built dataset with TRL, resumable, ending in a checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from peft import LoraConfig
from rich.console import Console
from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, TrainerState
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import get_last_checkpoint
from transformers.utils import is_torch_bf16_gpu_available
from trl import SFTConfig

from apollo.v1 import events_pb2 as pb
from services.llm.local_model import is_model_directory, transformers_model_dir
from services.llm.model_files import models_dir
from services.trainer.checkpoints import (
    CHECKPOINTS_SUBDIR,
    SavedCheckpoint,
    checkpoint_dir,
    checkpoint_id,
    save_checkpoint,
    saved_checkpoint,
)
from services.trainer.training_config import TrainingRecipe
from services.trainer.training_data import TrainingData, TrainingDataError, read_training_data
from services.trainer.training_progress import (
    LossProgress,
    MaskedSFTTrainer,
    logged_trained_tokens,
)

LOCAL_BASE_MODEL = "local"
RUNS_SUBDIR = "runs"


class BaseModelError(ValueError):
    """The base model is neither `local` nor a transformers model directory."""


@dataclass(frozen=True)
class TrainingRun:
    """One training run: the dataset, the base model, the recipe, and where files go."""

    dataset_dir: Path
    base_model: str
    recipe: TrainingRecipe
    artifacts_root: Path
    # The trainer's resumable checkpoints; default `<artifacts>/runs/<checkpoint id>`, so that
    # the same command run again finds them and continues.
    output_dir: Path | None = None


def base_model_dir(base_model: str) -> Path:
    """The transformers directory of `local` (SmolLM2, converted once) or of a model path."""
    if base_model == LOCAL_BASE_MODEL:
        return transformers_model_dir(models_dir())
    path = Path(base_model).expanduser()
    if not is_model_directory(path):
        raise BaseModelError(
            f"{base_model!r} is not a transformers model directory (no config.json there); "
            "use `local` or the directory of a saved model, e.g. a checkpoint"
        )
    return path.resolve()


def train(run: TrainingRun, console: Console) -> SavedCheckpoint | None:
    """Train (resuming the run's last checkpoint if any) and save the checkpoint; a finished
    run's checkpoint is returned as is. None on every process but the main one."""
    data = read_training_data(run.dataset_dir)
    base = base_model_dir(run.base_model)
    base_identity = _base_identity(run.base_model, base)
    identity = checkpoint_id(data.dataset_id, base_identity, run.recipe)
    final_dir = checkpoint_dir(run.artifacts_root, identity)
    finished = saved_checkpoint(final_dir)
    if finished is not None:
        return finished
    output_dir = run.output_dir or run.artifacts_root / RUNS_SUBDIR / identity
    trainer = _trainer(data, base, run.recipe, output_dir, console)
    resume_from, before = _resume_point(output_dir)
    if resume_from is not None:
        console.print(f"resuming from {resume_from} (step {before.global_step})")
    trainer.trained_tokens = logged_trained_tokens(before)
    session = trainer.train(resume_from_checkpoint=resume_from)
    if not trainer.is_world_process_zero():
        return None
    model = trainer.model.merge_and_unload() if run.recipe.lora else trainer.model
    body = pb.CheckpointSaved(
        checkpoint_id=identity,
        dataset_id=data.dataset_id,
        base_model=base_identity,
        uri=f"{CHECKPOINTS_SUBDIR}/{identity}",
        optimizer_step=trainer.state.global_step,
        metrics=_metrics(trainer, before, float(session.metrics["train_runtime"])),
    )
    return save_checkpoint(model, trainer.processing_class, trainer.state, final_dir, body)


def sft_config(recipe: TrainingRecipe, output_dir: Path) -> SFTConfig:
    """TRL's config for the recipe; devices, precision and distribution come from accelerate."""
    return SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=recipe.epochs,
        max_steps=recipe.max_steps or -1,
        learning_rate=recipe.learning_rate,
        lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr": recipe.floor_learning_rate},
        warmup_steps=recipe.warmup_ratio,
        weight_decay=recipe.weight_decay,
        optim="adamw_torch",
        per_device_train_batch_size=recipe.per_device_batch,
        gradient_accumulation_steps=recipe.grad_accum,
        seed=recipe.seed,
        activation_checkpointing=recipe.activation_checkpointing,
        # bf16 where the accelerator has it (TRL's default), full precision elsewhere.
        bf16=is_torch_bf16_gpu_available(),
        # Per-token loss: TRL sums the loss over the trained tokens of the whole accumulated
        # batch and divides by their number, so a long sample weighs by its tokens.
        loss_type="nll",
        # Our samples are exact windows already cut to the dataset's maximum: never truncate.
        max_length=None,
        save_strategy="steps",
        save_steps=recipe.save_steps,
        save_total_limit=2,
        # Every step's loss goes to the progress bar and to the trainer state that a resume reads.
        logging_steps=1,
        include_num_input_tokens_seen="non_padding",
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def _base_identity(base_model: str, base: Path) -> str:
    # A path counts by where it resolves to, so `./ckpt` and its absolute path are one base.
    return base_model if base_model == LOCAL_BASE_MODEL else str(base)


def _trainer(
    data: TrainingData, base: Path, recipe: TrainingRecipe, output_dir: Path, console: Console
) -> MaskedSFTTrainer:
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(base, local_files_only=True)
    vocabulary = model.get_input_embeddings().num_embeddings
    if data.largest_token_id >= vocabulary:
        raise TrainingDataError(
            f"dataset {data.dataset_id} uses token id {data.largest_token_id}, beyond the "
            f"{vocabulary}-token vocabulary of {base}: it was tokenized for another model"
        )
    peft_config = (
        LoraConfig(
            r=recipe.lora_rank,
            lora_alpha=recipe.lora_alpha,
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        )
        if recipe.lora
        else None
    )
    trainer = MaskedSFTTrainer(
        model=model,
        args=sft_config(recipe, output_dir),
        train_dataset=data.samples,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[LossProgress(console)],
    )
    # The bar shows the loss; the printer would repeat every log line on stdout.
    trainer.remove_callback(PrinterCallback)
    return trainer


def _resume_point(output_dir: Path) -> tuple[str | None, TrainerState]:
    """The run's last checkpoint and its state; none and a fresh state for a new run."""
    last = get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
    if last is None:
        return None, TrainerState()
    return last, TrainerState.load_from_json(str(Path(last) / TRAINER_STATE_NAME))


def _metrics(trainer: MaskedSFTTrainer, before: TrainerState, runtime: float) -> dict[str, float]:
    """The run's figures; the rates are this process's (after a resume, the part it trained)."""
    state = trainer.state
    losses = [entry["loss"] for entry in state.log_history if "loss" in entry]
    input_tokens = state.num_input_tokens_seen - before.num_input_tokens_seen
    trained_tokens = trainer.trained_tokens - logged_trained_tokens(before)
    # A run killed between its last step and its save trains nothing when rerun.
    rate = 1 / runtime if runtime > 0 else 0.0
    return {
        "final_loss": losses[-1],
        "steps": float(state.global_step),
        "trained_tokens": float(trainer.trained_tokens),
        "input_tokens": float(state.num_input_tokens_seen),
        "train_runtime_s": runtime,
        "tokens_per_second": input_tokens * rate,
        "trained_tokens_per_second": trained_tokens * rate,
    }
