"""What a training run shows and counts as it goes: a rich bar with the loss, trained tokens."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
from trl import SFTTrainer

# The log key that carries the running count of trained tokens (kept in the trainer state's
# log history, which a resumed run reads back).
TRAINED_TOKENS = "trained_tokens"


class LossProgress(TrainerCallback):
    """A progress bar of optimizer steps with the newest loss, on the main process only."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress: Progress | None = None
        self._task = 0

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **_: Any
    ) -> None:
        if not state.is_world_process_zero:
            return
        self._progress = Progress(
            TextColumn("[bold]training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self._console,
            # Redrawn on each logged step, not by a thread that competes with training for CPU.
            auto_refresh=False,
        )
        self._progress.start()
        # A resumed run starts where its checkpoint left off.
        self._task = self._progress.add_task(
            "training", total=state.max_steps, completed=state.global_step, loss="-"
        )

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **_: Any,
    ) -> None:
        if self._progress is not None and logs and "loss" in logs:
            loss = f"{logs['loss']:.4f}"
            self._progress.update(self._task, completed=state.global_step, loss=loss, refresh=True)

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **_: Any
    ) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=state.global_step)
            self._progress.stop()
            self._progress = None


class MaskedSFTTrainer(SFTTrainer):
    """TRL's SFTTrainer, counting the tokens it trains on (labels other than -100)."""

    def __init__(self, *args: Any, trained_tokens: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Where a resumed run's count starts: the last count its checkpoint logged.
        self.trained_tokens = trained_tokens

    def get_batch_samples(self, epoch_iterator: Any, num_batches: int, device: Any) -> Any:
        batches, trained = super().get_batch_samples(epoch_iterator, num_batches, device)
        # The very count the per-token loss divides by: this step's trained tokens, all ranks.
        if trained is not None:
            self.trained_tokens += int(trained)
        return batches, trained

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        logs[TRAINED_TOKENS] = self.trained_tokens
        super().log(logs, start_time)


def logged_trained_tokens(state: TrainerState) -> int:
    """The last trained-token count in a trainer state's log history (0 before any)."""
    counts = [entry[TRAINED_TOKENS] for entry in state.log_history if TRAINED_TOKENS in entry]
    return int(counts[-1]) if counts else 0
