"""Every implementation of a storage port, behind one fixture each, plus event builders."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import EventArchive, InMemoryArchive
from services.eventlog.events import new_event
from services.eventlog.pg_archive import PgArchive
from services.eventlog.pg_processed import PgProcessedEvents
from services.eventlog.processed import InMemoryProcessedEvents, ProcessedEvents


@pytest.fixture
async def archive(backend_dsn: str | None) -> AsyncIterator[EventArchive]:
    """An empty archive of each implementation."""
    store = InMemoryArchive() if backend_dsn is None else await PgArchive.connect(backend_dsn)
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture
async def processed(backend_dsn: str | None) -> AsyncIterator[ProcessedEvents]:
    """An empty processed-events record of each implementation."""
    if backend_dsn is None:
        yield InMemoryProcessedEvents()
        return
    record = await PgProcessedEvents.connect(backend_dsn)
    await record.migrate()
    yield record
    await record.close()


class TrajectoryLog:
    """Builds the events of one trajectory, one second apart, with a fresh id."""

    def __init__(self, start: datetime) -> None:
        self.trajectory_id = f"traj-{uuid.uuid4().hex[:12]}"
        self._clock = (start + timedelta(seconds=n) for n in itertools.count())

    def event(self, body, *, at: datetime | None = None) -> pb.Event:
        """Any body, stamped with the next tick (or `at`)."""
        stamp = Timestamp()
        stamp.FromDatetime(at or next(self._clock))
        return new_event(body, trajectory_id=self.trajectory_id, service="test", occurred_at=stamp)

    def started(self, task_id: str = "task-a") -> pb.Event:
        """trajectory_started."""
        return self.event(pb.TrajectoryStarted(task_id=task_id))

    def action(self, step: int) -> pb.Event:
        """action_proposed with a tool call."""
        call = pb.ToolCall(call_id=f"c{step}", name="bash", arguments_json='{"cmd":"ls"}')
        return self.event(
            pb.ActionProposed(step_index=step, tool_call=call, prompt_digest="sha256:" + "0" * 64)
        )

    def observation(self, action: pb.Event) -> pb.Event:
        """observation_recorded of `action`."""
        step = action.action_proposed.step_index
        return self.event(pb.ObservationRecorded(action_id=action.event_id, step_index=step))

    def guidance(self, text: str = "try the other file") -> pb.Event:
        """guidance_submitted."""
        return self.event(pb.GuidanceSubmitted(annotator="ann", text=text, channel="web"))

    def ended(self, reason: int = pb.END_REASON_FINISHED, score: float | None = None) -> pb.Event:
        """trajectory_ended."""
        body = pb.TrajectoryEnded(reason=reason)
        if score is not None:
            body.final_score = score
        return self.event(body)

    def cancelled(self) -> pb.Event:
        """trajectory_cancelled."""
        return self.event(pb.TrajectoryCancelled(requested_by="ann", reason="stop"))

    def judged(self, action: pb.Event) -> pb.Event:
        """action_judged of `action` (a verdict, published on the verdicts topic)."""
        return self.event(
            pb.ActionJudged(
                action_id=action.event_id,
                step_index=action.action_proposed.step_index,
                ruleset_version="rules-1",
                verdict=pb.VERDICT_KEEP,
            )
        )


@pytest.fixture
def new_log() -> Callable[[], TrajectoryLog]:
    """Make trajectory builders, each starting an hour after the previous one."""
    starts = (datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=n) for n in itertools.count())
    return lambda: TrajectoryLog(next(starts))
