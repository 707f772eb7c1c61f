"""Which trajectories a dataset is built from: ids, task, labels, status and score."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from services.eventlog.archive import ArchivedEvent, EventArchive, TrajectoryRow
from services.eventlog.topics import TRAJECTORIES, VERDICTS

# The archive lists trajectories a page at a time; a selection reads them all.
_EVERY_TRAJECTORY = 1_000_000


class EmptySelection(LookupError):
    """No archived trajectory matches the selection."""


class TrajectorySelection(BaseModel):
    """A filter over the archived trajectories; every given criterion must hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trajectory_ids: tuple[str, ...] = Field(
        default=(), description="Only these trajectories (all archived ones when empty)"
    )
    task_id: str | None = Field(default=None, description="Only trajectories of this task")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Only trajectories started with these labels (k=v)"
    )
    status: str | None = Field(
        default=None, description="Only trajectories in this status, e.g. `finished`"
    )
    min_score: float | None = Field(
        default=None, description="Only trajectories whose final score is at least this"
    )

    def keeps(self, row: TrajectoryRow) -> bool:
        """Whether the archive's row of a trajectory passes the row-level criteria."""
        return (
            (not self.trajectory_ids or row.trajectory_id in self.trajectory_ids)
            and (self.task_id is None or row.task_id == self.task_id)
            and (self.status is None or row.status == self.status)
            and (
                self.min_score is None
                or (row.final_score is not None and row.final_score >= self.min_score)
            )
        )


@dataclass(frozen=True)
class SelectedTrajectory:
    """A selected trajectory: its archive row and its log and verdict records."""

    row: TrajectoryRow
    records: list[ArchivedEvent]

    def last_position(self, ruleset_version: str) -> int:
        """The archive position of the last record the dataset reads: log events and the
        version's verdicts, so another version's verdicts do not change the dataset id."""
        return max(
            (
                record.position
                for record in self.records
                if record.topic == TRAJECTORIES.name
                or (
                    record.topic == VERDICTS.name
                    and record.event.action_judged.ruleset_version == ruleset_version
                )
            ),
            default=0,
        )


async def select_trajectories(
    archive: EventArchive, selection: TrajectorySelection
) -> list[SelectedTrajectory]:
    """The matching trajectories with their records, by trajectory id; EmptySelection if none."""
    if selection.trajectory_ids:
        found = [await archive.trajectory(tid) for tid in selection.trajectory_ids]
        rows = [row for row in found if row is not None]
    else:
        rows = await archive.trajectories(limit=_EVERY_TRAJECTORY, status=selection.status)
    selected = []
    for row in sorted((r for r in rows if selection.keeps(r)), key=lambda r: r.trajectory_id):
        records = await archive.events(row.trajectory_id)
        if _has_labels(records, selection.labels):
            selected.append(SelectedTrajectory(row, records))
    if not selected:
        raise EmptySelection(
            f"no archived trajectory matches {selection.model_dump(exclude_defaults=True)}; "
            "list them with `apollo trajectories`"
        )
    return selected


def _has_labels(records: list[ArchivedEvent], labels: dict[str, str]) -> bool:
    if not labels:
        return True
    started = next((r.event for r in records if r.kind == "trajectory_started"), None)
    if started is None:
        return False
    shown = started.trajectory_started.labels
    return all(shown.get(key) == value for key, value in labels.items())
