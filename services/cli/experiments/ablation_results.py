"""What an ablation measured, as plain values: the report and the plot are drawn from these."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field

from services.judge.agreement import Agreement
from services.trainer.evaluation_report import ScoreSpread

UNTRAINED_VARIANT = "untrained"


@dataclass(frozen=True)
class StudentScores:
    """One student (a variant, or the untrained model) over its repeats.

    Each repeat is one trained checkpoint (the untrained model has one) scored on every
    held-out instance; a repeat's score is the mean over those instances.
    """

    variant: str
    checkpoint_ids: tuple[str, ...]
    final_by_repeat: tuple[float, ...]
    best_by_repeat: tuple[float, ...]
    null_action_rate: float

    @property
    def final(self) -> ScoreSpread:
        """Mean ± sd of the final score over repeats."""
        return ScoreSpread.of(list(self.final_by_repeat))

    @property
    def best(self) -> ScoreSpread:
        """Mean ± sd of the best score over repeats."""
        return ScoreSpread.of(list(self.best_by_repeat))


@dataclass(frozen=True)
class DatasetFacts:
    """The dataset one variant trained on, and what its trajectories hold."""

    variant: str
    dataset_id: str
    ruleset_version: str
    trajectory_ids: tuple[str, ...]
    samples: int
    trained_turns: int
    masked_turns: int
    # The ruleset's verdicts on the trajectories' actions (a sample whose every assistant turn
    # is masked is dropped, so the dataset's turns understate what the filter removes).
    actions: int
    masked_actions: int
    steps: int
    guidance: int
    mean_collection_score: float

    @property
    def mask_rate(self) -> float:
        """Share of the trajectories' actions the dataset's ruleset masks."""
        return self.masked_actions / self.actions if self.actions else 0.0

    @property
    def intervention_rate(self) -> float:
        """Guidance messages per 100 agent steps in its trajectories."""
        return 100 * self.guidance / self.steps if self.steps else 0.0


@dataclass(frozen=True)
class AnnotatorFacts:
    """What the annotator did in the guided arm, from the times the gateway recorded."""

    guided_trajectories: int
    guidance: int
    response_seconds: tuple[float, ...] = field(default=())
    # The attention time the gateway recorded on each guided trajectory.
    attention_seconds: tuple[float, ...] = field(default=())

    @property
    def guidance_per_trajectory(self) -> float:
        """Guidance messages per guided trajectory."""
        return self.guidance / self.guided_trajectories if self.guided_trajectories else 0.0

    @property
    def attention_per_trajectory(self) -> float:
        """Mean attention seconds the gateway recorded per guided trajectory."""
        total = sum(self.attention_seconds)
        return total / self.guided_trajectories if self.guided_trajectories else 0.0

    @property
    def median_response_seconds(self) -> float | None:
        """Median time from the step guidance answered to the guidance."""
        return statistics.median(self.response_seconds) if self.response_seconds else None


@dataclass(frozen=True)
class AblationResults:
    """Everything one ablation measured."""

    experiment: str
    size: str
    # How the report names the teacher, and whether it was the simulated one.
    teacher: str
    simulated_teacher: bool
    student_model: str
    heldout: tuple[str, ...]
    students: tuple[StudentScores, ...]
    datasets: tuple[DatasetFacts, ...]
    # The default ruleset against the teacher's known deviations: overall, then per rule
    # (None: a model teacher, whose mistakes are not known).
    judge: tuple[Agreement, ...] | None
    # Of the deviations of each kind of mistake, the share the ruleset masks (None likewise).
    judge_recall_by_mistake: dict[str, float] | None
    annotator: AnnotatorFacts

    def student(self, variant: str) -> StudentScores:
        """The scores of one variant (or `untrained`)."""
        return next(s for s in self.students if s.variant == variant)

    def as_json(self) -> dict:
        """A JSON-ready dict of every measured value (derived rates included)."""
        data = asdict(self)
        for row, facts in zip(data["students"], self.students, strict=True):
            row["final"] = asdict(facts.final)
            row["best"] = asdict(facts.best)
        for row, facts in zip(data["datasets"], self.datasets, strict=True):
            row["mask_rate"] = facts.mask_rate
            row["intervention_rate"] = facts.intervention_rate
        for row, facts in zip(data["judge"] or (), self.judge or (), strict=True):
            row["precision"] = facts.precision
            row["recall"] = facts.recall
        return data
