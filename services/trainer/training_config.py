"""The training recipe: the paper's SFT recipe, scaled down, as one validated config model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# The paper's recipe (GLM-4.5 with slime) is global batch 64, 4 epochs, Adam, cosine from 1e-5
# to 1e-6, weight decay 0.1, per-token loss. A 135M model on a laptop gets a smaller batch and,
# being small, a larger peak; the floor keeps the paper's ratio of a tenth of the peak.
PAPER_EPOCHS = 4
PAPER_WEIGHT_DECAY = 0.1
MIN_LR_RATIO = 0.1


class TrainingRecipe(BaseModel):
    """How one masked SFT run trains; every field but `save_steps` is part of the checkpoint's
    identity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    epochs: float = Field(
        default=PAPER_EPOCHS,
        gt=0,
        description="Passes over the (upsampled) dataset, as in the paper",
    )
    learning_rate: float = Field(
        default=5e-5, gt=0, description="Peak learning rate of the cosine schedule"
    )
    min_learning_rate: float | None = Field(
        default=None,
        gt=0,
        description="Floor the cosine schedule ends at (default: a tenth of the peak, as in the "
        "paper)",
    )
    weight_decay: float = Field(
        default=PAPER_WEIGHT_DECAY, ge=0, description="Decoupled (AdamW) weight decay"
    )
    warmup_ratio: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="Share of the steps spent warming the learning rate up (the paper names none)",
    )
    per_device_batch: int = Field(default=2, ge=1, description="Samples per device per micro-batch")
    grad_accum: int = Field(
        default=4,
        ge=1,
        description="Micro-batches per optimizer step (global batch: batch x this x devices)",
    )
    max_steps: int | None = Field(
        default=None, ge=1, description="Stop after this many optimizer steps (overrides epochs)"
    )
    save_steps: int = Field(
        default=10, ge=1, description="Optimizer steps between resumable checkpoints"
    )
    lora: bool = Field(
        default=False, description="Train a LoRA adapter (merged into the saved model at the end)"
    )
    lora_rank: int = Field(default=16, ge=1, description="Rank of the LoRA matrices")
    lora_alpha: int = Field(default=32, ge=1, description="LoRA scaling numerator (alpha / rank)")
    activation_checkpointing: bool = Field(
        default=True,
        description="Recompute activations in the backward pass (TRL's default): long samples "
        "fit in memory for about a third more compute",
    )
    seed: int = Field(default=0, description="Seed of initialisation, shuffling and dropout")

    @property
    def floor_learning_rate(self) -> float:
        """The learning rate the schedule ends at."""
        return self.min_learning_rate or self.learning_rate * MIN_LR_RATIO
