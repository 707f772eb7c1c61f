"""A finished checkpoint: its deterministic id, its model directory, and its CheckpointSaved."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event
from services.eventlog.jsonl import from_json_line, to_json_line
from services.trainer.training_config import TrainingRecipe

CHECKPOINTS_SUBDIR = "checkpoints"
# The event rides along in the directory as an export file, so that a rerun announces the
# same event (same id, deduplicated) and a run without a stack can `apollo import` it later.
EVENT_FILE = "checkpoint_saved.jsonl"
SERVICE = "trainer"
# The trainer's own state file, with the loss of every step, kept beside the weights.
TRAINER_STATE_FILE = "trainer_state.json"


def checkpoint_id(dataset_id: str, base_model: str, recipe: TrainingRecipe) -> str:
    """The content hash of what the checkpoint is trained from: the same inputs, the same id."""
    # How often the run saves changes nothing it learns, so it is no part of the identity.
    inputs = {
        "dataset_id": dataset_id,
        "base_model": base_model,
        "recipe": recipe.model_dump(exclude={"save_steps"}),
    }
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    return f"ckpt-{digest[:16]}"


def checkpoint_dir(artifacts_root: Path, checkpoint: str) -> Path:
    """The model directory of one checkpoint: `<artifacts>/checkpoints/<checkpoint_id>`."""
    return artifacts_root / CHECKPOINTS_SUBDIR / checkpoint


@dataclass(frozen=True)
class SavedCheckpoint:
    """A checkpoint on disk with the event that announces it."""

    directory: Path
    event: pb.Event

    @property
    def body(self) -> pb.CheckpointSaved:
        return self.event.checkpoint_saved


def saved_checkpoint(directory: Path) -> SavedCheckpoint | None:
    """The checkpoint already in `directory`, if a run finished there."""
    event_file = directory / EVENT_FILE
    if not event_file.is_file():
        return None
    return SavedCheckpoint(directory, from_json_line(event_file.read_text()))


def save_checkpoint(
    model: Any, tokenizer: Any, trainer_state: Any, directory: Path, body: pb.CheckpointSaved
) -> SavedCheckpoint:
    """Write the model directory (model, tokenizer, the loss history, the event) whole, or not
    at all."""
    event = new_event(body, trajectory_id="", service=SERVICE)
    directory.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the final place and renamed: a kill mid-save leaves no half checkpoint.
    scratch = Path(tempfile.mkdtemp(prefix=".saving-", dir=directory.parent))
    try:
        model.save_pretrained(scratch)
        tokenizer.save_pretrained(scratch)
        trainer_state.save_to_json(str(scratch / TRAINER_STATE_FILE))
        (scratch / EVENT_FILE).write_text(to_json_line(event) + "\n")
        scratch.rename(directory)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return SavedCheckpoint(directory, event)
