"""The evaluation table: per checkpoint, variant and task, mean ± sd of scores over seeds."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from apollo.v1 import events_pb2 as pb


@dataclass(frozen=True)
class ScoreSpread:
    """Mean and sample standard deviation; the deviation is None for a single run."""

    mean: float
    sd: float | None

    @classmethod
    def of(cls, scores: list[float]) -> ScoreSpread:
        """The spread of one or more scores."""
        sd = statistics.stdev(scores) if len(scores) > 1 else None
        return cls(statistics.fmean(scores), sd)

    def __str__(self) -> str:
        return f"{self.mean:.1f}" if self.sd is None else f"{self.mean:.1f} ± {self.sd:.1f}"


@dataclass(frozen=True)
class ReportRow:
    """One checkpoint and variant on one task."""

    checkpoint_id: str
    variant: str
    task_id: str
    runs: int
    final: ScoreSpread
    best: ScoreSpread

    def as_json(self) -> dict:
        """A JSON-ready dict."""
        return {
            "checkpoint_id": self.checkpoint_id,
            "variant": self.variant,
            "task_id": self.task_id,
            "runs": self.runs,
            "final_mean": self.final.mean,
            "final_sd": self.final.sd,
            "best_mean": self.best.mean,
            "best_sd": self.best.sd,
        }


def report_rows(scores: Iterable[pb.EvaluationScored]) -> list[ReportRow]:
    """One row per (checkpoint, variant, task), sorted by those three."""
    groups: dict[tuple[str, str, str], list[pb.EvaluationScored]] = defaultdict(list)
    for score in scores:
        groups[(score.checkpoint_id, score.variant, score.task_id)].append(score)
    return [
        ReportRow(
            checkpoint_id=checkpoint,
            variant=variant,
            task_id=task,
            runs=len(runs),
            final=ScoreSpread.of([run.final_score for run in runs]),
            best=ScoreSpread.of([run.best_score for run in runs]),
        )
        for (checkpoint, variant, task), runs in sorted(groups.items())
    ]


_HEADER = ("checkpoint", "variant", "task", "runs", "final (mean ± sd)", "best (mean ± sd)")


def markdown_table(rows: Iterable[ReportRow]) -> str:
    """The rows as a GitHub-flavoured markdown table."""
    lines = [_markdown_line(_HEADER), _markdown_line(["---"] * len(_HEADER))]
    for row in rows:
        cells = (row.checkpoint_id, row.variant or "-", row.task_id, str(row.runs))
        lines.append(_markdown_line((*cells, str(row.final), str(row.best))))
    return "\n".join(lines)


def _markdown_line(cells: Iterable[str]) -> str:
    # A pipe inside a cell would split it: labels are free text.
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
