"""The archive port: every event once, in log order, with read models and consumer offsets."""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from apollo.v1 import deadletter_pb2
from apollo.v1 import events_pb2 as pb
from services.eventlog.codec import encode, upcast_event
from services.eventlog.events import body_kind
from services.eventlog.topics import TRAJECTORIES, topic_for
from services.eventlog.verdict_model import InMemoryVerdictReadModel, VerdictReadModel
from services.trajectory import TrajectoryStatus, status_after_end
from services.trajectory.timestamps import utc_datetime

STATUSES = tuple(TrajectoryStatus)

# (topic, partition) -> the next offset to read; with the consumer group in front when stored.
PartitionOffsets = Mapping[tuple[str, int], int]
GroupOffsets = Mapping[tuple[str, str, int], int]


class InvalidAppend(ValueError):
    """An append the archive refuses as a whole; nothing of it was stored."""


class UnknownTrajectoryStatus(ValueError):
    """A status filter that is none of `STATUSES`."""


@dataclass(frozen=True)
class ArchivedEvent:
    """One archived event: what was read from which topic, and its place in the archive."""

    position: int
    topic: str
    event: pb.Event
    raw: bytes
    kind: str
    trajectory_id: str
    event_id: str
    occurred_at: datetime

    @classmethod
    def of(cls, topic: str, raw: bytes, position: int) -> ArchivedEvent:
        """Build the record from the encoded event, as every implementation stores it."""
        # The archive keeps every event as written; readers see it in the current version.
        event = upcast_event(pb.Event.FromString(raw))
        return cls(
            position=position,
            topic=topic,
            event=event,
            raw=raw,
            kind=body_kind(event),
            trajectory_id=event.trajectory_id,
            event_id=event.event_id,
            occurred_at=occurred_at(event),
        )

    def as_written(self) -> pb.Event:
        """The event in the schema version it was written in: what an export keeps."""
        return pb.Event.FromString(self.raw)


@dataclass(frozen=True)
class TrajectoryRow:
    """The trajectory list's row: derived from the log events of one trajectory only."""

    trajectory_id: str
    task_id: str
    status: str
    steps: int
    guidance_count: int
    started_at: datetime | None
    ended_at: datetime | None
    last_activity_at: datetime
    final_score: float | None

    @property
    def guidance_per_100_steps(self) -> float | None:
        """The intervention rate: guidance messages per 100 steps; None before the first step."""
        return 100 * self.guidance_count / self.steps if self.steps else None

    def as_json(self) -> dict:
        """A JSON-ready dict, timestamps as ISO 8601."""
        return {
            "trajectory_id": self.trajectory_id,
            "task_id": self.task_id,
            "status": self.status,
            "steps": self.steps,
            "guidance_count": self.guidance_count,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "last_activity_at": _iso(self.last_activity_at),
            "final_score": self.final_score,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class EventArchive(VerdictReadModel, Protocol):
    """Append-only event storage; read models and offsets change in the same transaction."""

    async def migrate(self) -> None:
        """Create what is missing; safe to run on every start."""

    async def close(self) -> None:
        """Release connections."""

    async def append(
        self, events_with_topic: Iterable[tuple[str, pb.Event]], offsets: GroupOffsets | None = None
    ) -> int:
        """Archive new events in input order with the consumer offsets; return how many were new."""

    async def load_offsets(self, group: str) -> dict[tuple[str, int], int]:
        """The stored next offsets of a consumer group."""

    async def reset_offsets(self, group: str, offsets: PartitionOffsets) -> None:
        """Replace every stored offset of a group (after a rehydrate, for example)."""

    async def events(self, trajectory_id: str) -> list[ArchivedEvent]:
        """One trajectory's events in log order."""

    def iter_all(self, after_position: int = 0, batch: int = 1000) -> AsyncIterator[ArchivedEvent]:
        """Every event after `after_position` in position order, read `batch` at a time."""

    async def last_position(self) -> int:
        """The position of the latest archived event; 0 while the archive is empty."""

    async def starts(self, trajectory_ids: Sequence[str]) -> dict[str, ArchivedEvent]:
        """The trajectory_started event of each of these trajectories that has one."""

    async def logs(self, trajectory_ids: Sequence[str]) -> dict[str, list[ArchivedEvent]]:
        """The trajectory-log events of each of these trajectories (if any), in log order."""

    async def select_trajectories(
        self, task_id: str | None = None, since: datetime | None = None
    ) -> list[str]:
        """Ids of the trajectories of a task, started (or, unstarted, active) since a time."""

    async def has(self, event_ids: Iterable[str]) -> set[str]:
        """The subset of `event_ids` already archived."""

    async def count(self) -> int:
        """How many events are archived."""

    async def trajectories(self, limit: int = 50, status: str | None = None) -> list[TrajectoryRow]:
        """Trajectory rows, most recent activity first."""

    async def trajectory(self, trajectory_id: str) -> TrajectoryRow | None:
        """One trajectory row, or None when the archive has no event of it."""

    async def append_dead_letters(self, records: Iterable[deadletter_pb2.DeadLetter]) -> int:
        """Archive each original message's dead letter once; return how many were new."""

    async def dead_letters(self, limit: int = 50) -> list[deadletter_pb2.DeadLetter]:
        """The most recently archived dead letters first."""


def occurred_at(event: pb.Event) -> datetime:
    """The event's time as an aware UTC datetime (microseconds, as Postgres keeps it)."""
    return utc_datetime(event.occurred_at)


def in_read_model(event: pb.Event) -> bool:
    """Whether the trajectory list counts this event (log events only, not verdicts)."""
    return bool(event.trajectory_id) and topic_for(event) is TRAJECTORIES


def end_status(event: pb.Event) -> str | None:
    """The status a trajectory_ended event sets; None for any other event."""
    if body_kind(event) != "trajectory_ended":
        return None
    return status_after_end(event.trajectory_ended.reason).value


def final_score(event: pb.Event) -> float | None:
    """The final score a trajectory_ended event carries, if any."""
    ended = event.trajectory_ended
    return ended.final_score if ended.HasField("final_score") else None


def fold_row(row: TrajectoryRow | None, event: pb.Event) -> TrajectoryRow:
    """Apply one log event to its trajectory's row (the rules PgArchive applies set-wise)."""
    when = occurred_at(event)
    if row is None:
        running = TrajectoryStatus.RUNNING.value
        row = TrajectoryRow(event.trajectory_id, "", running, 0, 0, None, None, when, None)
    row = replace(row, last_activity_at=max(row.last_activity_at, when))
    kind = body_kind(event)
    if kind == "trajectory_started" and row.started_at is None:
        return replace(row, task_id=event.trajectory_started.task_id, started_at=when)
    if kind == "action_proposed":
        return replace(row, steps=row.steps + 1)
    if kind == "guidance_submitted":
        return replace(row, guidance_count=row.guidance_count + 1)
    if kind == "trajectory_ended":
        # The latest end wins; a cancel request after the end changes nothing.
        return replace(row, status=end_status(event), ended_at=when, final_score=final_score(event))
    if kind == "trajectory_cancelled" and row.ended_at is None:
        return replace(row, status=TrajectoryStatus.CANCELLED.value)
    return row


def encode_append(
    events_with_topic: Iterable[tuple[str, pb.Event]], offsets: GroupOffsets | None
) -> tuple[list[tuple[str, bytes, pb.Event]], dict[tuple[str, str, int], int]]:
    """Check and encode an append before anything is written; raise `InvalidAppend`."""
    encoded = []
    for topic, event in events_with_topic:
        if not topic or not event.event_id or body_kind(event) == "":
            raise InvalidAppend(f"cannot archive event {event.event_id!r} on topic {topic!r}")
        encoded.append((topic, encode(event), event))
    checked = dict(offsets or {})
    for (group, topic, partition), offset in checked.items():
        if not group or not topic or partition < 0 or offset < 0:
            raise InvalidAppend(f"bad offset {offset} for {group!r} on {topic}[{partition}]")
    return encoded, checked


def check_status(status: str | None) -> None:
    """Reject a status filter no trajectory can have."""
    if status is not None and status not in STATUSES:
        raise UnknownTrajectoryStatus(f"status {status!r} is not one of {', '.join(STATUSES)}")


class InMemoryArchive(InMemoryVerdictReadModel):
    """The archive in a process's memory, for unit tests; follows the same contract as PgArchive."""

    def __init__(self) -> None:
        super().__init__()
        self._records: list[ArchivedEvent] = []
        self._positions: list[int] = []
        self._ids: set[str] = set()
        self._rows: dict[str, TrajectoryRow] = {}
        self._starts: dict[str, ArchivedEvent] = {}
        self._offsets: dict[tuple[str, str, int], int] = {}
        self._dead_letters: dict[tuple[str, int, int], deadletter_pb2.DeadLetter] = {}

    async def migrate(self) -> None:
        """Nothing to create."""

    async def close(self) -> None:
        """Nothing to release."""

    async def append(
        self, events_with_topic: Iterable[tuple[str, pb.Event]], offsets: GroupOffsets | None = None
    ) -> int:
        """Archive new events in input order with the consumer offsets; return how many were new."""
        encoded, checked = encode_append(events_with_topic, offsets)
        added = 0
        for topic, raw, event in encoded:
            if event.event_id in self._ids:
                continue
            position = len(self._records) + 1
            record = ArchivedEvent.of(topic, raw, position)
            self._records.append(record)
            if record.kind == "trajectory_started":
                self._starts.setdefault(record.trajectory_id, record)
            self._positions.append(position)
            self._ids.add(event.event_id)
            if in_read_model(event):
                self._rows[event.trajectory_id] = fold_row(
                    self._rows.get(event.trajectory_id), event
                )
            self.fold_verdict(event, position)
            added += 1
        self._offsets.update(checked)
        return added

    async def load_offsets(self, group: str) -> dict[tuple[str, int], int]:
        """The stored next offsets of a consumer group."""
        return {(t, p): o for (g, t, p), o in self._offsets.items() if g == group}

    async def reset_offsets(self, group: str, offsets: PartitionOffsets) -> None:
        """Replace every stored offset of a group."""
        self._offsets = {key: o for key, o in self._offsets.items() if key[0] != group}
        self._offsets.update({(group, t, p): o for (t, p), o in offsets.items()})

    async def events(self, trajectory_id: str) -> list[ArchivedEvent]:
        """One trajectory's events in log order."""
        return [r for r in self._records if r.trajectory_id == trajectory_id]

    async def iter_all(
        self, after_position: int = 0, batch: int = 1000
    ) -> AsyncIterator[ArchivedEvent]:
        """Every event after `after_position` in position order, read `batch` at a time."""
        while page := self._page(after_position, batch):
            for record in page:
                yield record
            after_position = page[-1].position

    def _page(self, after_position: int, batch: int) -> list[ArchivedEvent]:
        start = bisect.bisect_right(self._positions, after_position)
        return self._records[start : start + batch]

    async def last_position(self) -> int:
        """The position of the latest archived event; 0 while the archive is empty."""
        return self._positions[-1] if self._positions else 0

    async def starts(self, trajectory_ids: Sequence[str]) -> dict[str, ArchivedEvent]:
        """The trajectory_started event of each of these trajectories that has one."""
        return {tid: self._starts[tid] for tid in trajectory_ids if tid in self._starts}

    async def logs(self, trajectory_ids: Sequence[str]) -> dict[str, list[ArchivedEvent]]:
        """The trajectory-log events of each of these trajectories (if any), in log order."""
        wanted = set(trajectory_ids)
        found: dict[str, list[ArchivedEvent]] = {}
        for record in self._records:
            if record.trajectory_id in wanted and record.topic == TRAJECTORIES.name:
                found.setdefault(record.trajectory_id, []).append(record)
        return found

    async def select_trajectories(
        self, task_id: str | None = None, since: datetime | None = None
    ) -> list[str]:
        """Ids of the trajectories of a task, started (or, unstarted, active) since a time."""
        return sorted(
            row.trajectory_id
            for row in self._rows.values()
            if (task_id is None or row.task_id == task_id)
            and (since is None or (row.started_at or row.last_activity_at) >= since)
        )

    async def has(self, event_ids: Iterable[str]) -> set[str]:
        """The subset of `event_ids` already archived."""
        return set(event_ids) & self._ids

    async def count(self) -> int:
        """How many events are archived."""
        return len(self._records)

    async def trajectories(self, limit: int = 50, status: str | None = None) -> list[TrajectoryRow]:
        """Trajectory rows, most recent activity first."""
        check_status(status)
        rows = [r for r in self._rows.values() if status is None or r.status == status]
        rows.sort(key=lambda r: r.trajectory_id)
        rows.sort(key=lambda r: r.last_activity_at, reverse=True)
        return rows[:limit]

    async def trajectory(self, trajectory_id: str) -> TrajectoryRow | None:
        """One trajectory row, or None when the archive has no event of it."""
        return self._rows.get(trajectory_id)

    async def append_dead_letters(self, records: Iterable[deadletter_pb2.DeadLetter]) -> int:
        """Archive each original message's dead letter once; return how many were new."""
        added = 0
        for record in records:
            key = (record.topic, record.partition, record.offset)
            if key not in self._dead_letters:
                self._dead_letters[key] = deadletter_pb2.DeadLetter.FromString(
                    record.SerializeToString(deterministic=True)
                )
                added += 1
        return added

    async def dead_letters(self, limit: int = 50) -> list[deadletter_pb2.DeadLetter]:
        """The most recently archived dead letters first."""
        return list(reversed(self._dead_letters.values()))[:limit]
