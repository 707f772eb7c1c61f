"""Building a dataset: selected trajectories and one ruleset's verdicts into tokenized samples."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from services.eventlog.archive import EventArchive
from services.trainer.dataset_store import dataset_exists, read_manifest, write_dataset
from services.trainer.samples import ASSISTANT, RejectedSample, Sample, SampleKind, SampleTurn
from services.trainer.selection import SelectedTrajectory, TrajectorySelection, select_trajectories
from services.trainer.tokenization import IGNORE_INDEX, SampleTokenizer, TokenizedSample
from services.trainer.verdict_masks import RulesetMasks, UnknownRulesetVersion
from services.trainer.windows import trajectory_samples
from services.trajectory import fold
from services.trajectory.canonical import canonical_json

# Part of every dataset id: bump it when the same inputs would give other samples.
BUILDER_VERSION = "1"

Item = TypeVar("Item")
Track = Callable[[Sequence[Item], str], Iterable[Item]]


def _untracked(items: Sequence[Item], description: str) -> Iterable[Item]:
    return items


class DatasetBuildConfig(BaseModel):
    """What `apollo dataset build` is asked for: the trajectories, the ruleset and the recipe."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ruleset_version: str = Field(description="Ruleset version whose mask verdicts drop turns")
    selection: TrajectorySelection = Field(
        default_factory=TrajectorySelection, description="Which trajectories to build from"
    )
    react_upsample: int = Field(default=7, ge=1, description="Repeats of each window sample")
    summary_upsample: int = Field(default=10, ge=1, description="Repeats of each summary sample")
    max_tokens: int = Field(
        default=131072, ge=1, description="Samples longer than this many tokens are dropped"
    )

    def recipe(self) -> dict:
        """The settings that change the samples, as the dataset id covers them."""
        return {
            "builder_version": BUILDER_VERSION,
            "react_upsample": self.react_upsample,
            "summary_upsample": self.summary_upsample,
            "max_tokens": self.max_tokens,
        }


@dataclass(frozen=True)
class BuildOutcome:
    """The dataset's manifest, and whether this build wrote it (False: it existed)."""

    manifest: dict
    created: bool
    rejected: list[RejectedSample] = field(default_factory=list)


async def build_dataset(
    archive: EventArchive,
    config: DatasetBuildConfig,
    tokenizer: SampleTokenizer,
    artifacts_root: Path,
    track: Track = _untracked,
) -> BuildOutcome:
    """Build (or find already built) the dataset of `config`; raise on an empty selection or
    a ruleset version that judged none of the selected trajectories."""
    selected = await select_trajectories(archive, config.selection)
    masks = {
        t.row.trajectory_id: RulesetMasks.read(config.ruleset_version, t.records) for t in selected
    }
    if not any(m.judged for m in masks.values()):
        raise UnknownRulesetVersion(
            f"ruleset version {config.ruleset_version!r} judged none of the "
            f"{len(selected)} selected trajectories; judge them first (`apollo judge`)"
        )
    lineage = [_lineage(t, config.ruleset_version) for t in selected]
    dataset_id = _dataset_id(config, tokenizer, lineage)
    if dataset_exists(artifacts_root, dataset_id):
        return BuildOutcome(read_manifest(artifacts_root, dataset_id), created=False)
    samples: list[Sample] = []
    rejected: list[RejectedSample] = []
    for trajectory in track(selected, "rendering windows"):
        events = [record.event for record in trajectory.records]
        cut, refused = trajectory_samples(
            fold(events, trajectory.row.trajectory_id), events, masks[trajectory.row.trajectory_id]
        )
        samples.extend(cut)
        rejected.extend(refused)
    rows, counts = _tokenized_rows(samples, tokenizer, config)
    manifest = {
        "dataset_id": dataset_id,
        "ruleset_version": config.ruleset_version,
        "tokenizer": tokenizer.identity.as_json(),
        "builder": {**config.recipe(), "selection": config.selection.model_dump(mode="json")},
        "lineage": lineage,
        "counts": {**counts, "rejected_samples": len(rejected)},
        "rejected": [str(r) for r in rejected],
    }
    write_dataset(artifacts_root, manifest, rows)
    return BuildOutcome(manifest, created=True, rejected=rejected)


def _lineage(trajectory: SelectedTrajectory, ruleset_version: str) -> dict:
    row = trajectory.row
    return {
        "trajectory_id": row.trajectory_id,
        "task_id": row.task_id,
        "last_position": trajectory.last_position(ruleset_version),
        "steps": row.steps,
        "guidance_count": row.guidance_count,
    }


def _dataset_id(config: DatasetBuildConfig, tokenizer: SampleTokenizer, lineage: list[dict]) -> str:
    """The content hash of the inputs: trajectories at positions, ruleset, recipe, tokenizer."""
    inputs = {
        "trajectories": [[t["trajectory_id"], t["last_position"]] for t in lineage],
        "ruleset_version": config.ruleset_version,
        "recipe": config.recipe(),
        "tokenizer": tokenizer.identity.digest,
    }
    return "ds-" + hashlib.sha256(canonical_json(inputs).encode()).hexdigest()[:20]


def _tokenized_rows(
    samples: list[Sample], tokenizer: SampleTokenizer, config: DatasetBuildConfig
) -> tuple[list[dict], dict]:
    """The rows of the samples kept, and the counts of what was kept and dropped."""
    counts: Counter[str] = Counter()
    masked_by_rule: Counter[str] = Counter()
    rows = []
    trainable = [sample for sample in samples if sample.trained_turns]
    counts["dropped_untrained"] = len(samples) - len(trainable)
    tokenized_samples = tokenizer.tokenize(trainable)
    for sample, tokenized in zip(trainable, tokenized_samples, strict=True):
        if len(tokenized.input_ids) > config.max_tokens:
            counts["dropped_too_long"] += 1
            continue
        counts[f"{sample.kind.value}_samples"] += 1
        counts["tokens"] += len(tokenized.input_ids)
        counts["trained_tokens"] += len(tokenized.labels) - tokenized.labels.count(IGNORE_INDEX)
        for turn in sample.turns:
            if turn.message.role == ASSISTANT:
                counts[_turn_count(turn)] += 1
                masked_by_rule.update(turn.mask_rules)
        rows.append(_row(sample, tokenized, config))
    every = ("react_samples", "summary_samples", "dropped_untrained", "dropped_too_long")
    return rows, {
        **{name: counts[name] for name in every},
        "tokens": counts["tokens"],
        "trained_tokens": counts["trained_tokens"],
        "trained_turns": counts["trained_turns"],
        "masked_turns": counts["masked_turns"],
        "context_turns": counts["context_turns"],
        "masked_turns_by_rule": dict(sorted(masked_by_rule.items())),
    }


def _turn_count(turn: SampleTurn) -> str:
    if turn.train:
        return "trained_turns"
    return "masked_turns" if turn.masked else "context_turns"


def _row(sample: Sample, tokenized: TokenizedSample, config: DatasetBuildConfig) -> dict:
    upsample = config.react_upsample if sample.kind is SampleKind.REACT else config.summary_upsample
    return {
        "sample_id": sample.sample_id,
        "kind": sample.kind.value,
        "trajectory_id": sample.trajectory_id,
        "task_id": sample.task_id,
        "window_index": sample.window_index,
        "messages": [turn.as_row() for turn in sample.turns],
        "tools": sample.tools_json(),
        "prompt_digest": sample.prompt_digest,
        "upsample": upsample,
        "input_ids": tokenized.input_ids,
        "labels": tokenized.labels,
    }
