"""What an ablation runs: the instances, the two collection arms, the 2x2 variants and sizes.

The paper's ablation crosses human guidance (collect with or without the annotator) with the
action filter (train on every turn, or only on the turns the judge keeps). Every run of an
ablation has an id derived from the experiment's name and start time and from what it is,
so a rerun after a kill finds what is already done instead of doing it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from google.protobuf.timestamp_pb2 import Timestamp

from services.cli.experiments.ablation_teacher import Teacher
from services.tasks.families import heldout_seeds, training_seeds
from services.trajectory.derived_ids import derived_event_id

# The label every trajectory an ablation collects carries, with the experiment's name.
EXPERIMENT_LABEL = "experiment"
ARM_LABEL = "arm"


class Arm(StrEnum):
    """How a training trajectory was collected."""

    GUIDED = "guided"
    UNGUIDED = "unguided"


@dataclass(frozen=True)
class Variant:
    """One cell of the 2x2: trained on guided or unguided trajectories, filtered or not."""

    human: bool
    filtered: bool

    @property
    def name(self) -> str:
        """`human+filter`, `human`, `filter` or `neither`."""
        parts = [part for part, on in (("human", self.human), ("filter", self.filtered)) if on]
        return "+".join(parts) or "neither"

    @property
    def arm(self) -> Arm:
        """The collection arm its trajectories come from."""
        return Arm.GUIDED if self.human else Arm.UNGUIDED


VARIANTS = tuple(Variant(human, filtered) for human in (True, False) for filtered in (True, False))
FULL = Variant(human=True, filtered=True)
NO_HUMAN = Variant(human=False, filtered=True)


@dataclass(frozen=True)
class AblationSize:
    """How big an ablation is, from the families it covers to how long each student trains."""

    name: str
    families: tuple[str, ...] | None  # None: every built-in family
    train_seeds: tuple[int, ...]
    heldout_seeds: tuple[int, ...]
    repeats: int
    # The simulated teacher's; a model teacher makes the mistakes it makes.
    deviation_rate: float
    train_steps: int
    eval_max_steps: int
    # Collection summarizes at this prompt size, so every window fits `max_tokens`: the
    # first prompt alone is about 2,900 tokens, and CPU training cost grows with length.
    summary_threshold: int
    max_tokens: int


SIZES = {
    # Checks the pipeline, not the result: one family, two training instances, minutes.
    "small": AblationSize(
        name="small",
        families=("data-filtering-dedup",),
        train_seeds=tuple(training_seeds(2)),
        heldout_seeds=tuple(heldout_seeds(1)),
        repeats=1,
        deviation_rate=0.3,
        train_steps=2,
        eval_max_steps=2,
        summary_threshold=3300,
        max_tokens=4096,
    ),
    # Sized for a 2-core machine in at most 90 minutes, where a training step of the local
    # model on a 3,500-token window and a model call of the evaluation each take tens of
    # seconds: three families, two training instances each, two repeats, short runs.
    "default": AblationSize(
        name="default",
        families=("data-filtering-dedup", "data-construction-logs", "reward-design-sorting"),
        train_seeds=tuple(training_seeds(2)),
        heldout_seeds=tuple(heldout_seeds(1)),
        repeats=2,
        deviation_rate=0.3,
        train_steps=4,
        eval_max_steps=3,
        summary_threshold=3300,
        max_tokens=4096,
    ),
}


@dataclass(frozen=True)
class CollectionRun:
    """One training instance collected in one arm."""

    family: str
    seed: int
    arm: Arm


@dataclass(frozen=True)
class AblationPlan:
    """Every run of one ablation, from its size, its teacher and the user's overrides."""

    experiment: str
    started_at: Timestamp
    families: tuple[str, ...]
    size: AblationSize
    teacher: Teacher

    @property
    def collection(self) -> list[CollectionRun]:
        """Every training instance in both arms, family by family."""
        return [
            CollectionRun(family, seed, arm)
            for family in self.families
            for seed in self.size.train_seeds
            for arm in Arm
        ]

    @property
    def heldout(self) -> list[tuple[str, int]]:
        """The held-out instances every checkpoint is evaluated on."""
        return [(family, seed) for family in self.families for seed in self.size.heldout_seeds]

    def derived_id(self, *parts: str) -> str:
        """A stable id for one thing this experiment makes (the same on every rerun)."""
        return derived_event_id(self.started_at, "ablation", self.experiment, *parts)

    def trajectory_id(self, run: CollectionRun) -> str:
        """The trajectory a collection run records."""
        return self.derived_id("collect", run.family, str(run.seed), run.arm, "trajectory")

    def labels(self, run: CollectionRun) -> dict[str, str]:
        """The labels of a collected trajectory, by which datasets select it."""
        return {EXPERIMENT_LABEL: self.experiment, ARM_LABEL: str(run.arm)}
