"""The gateway wired with in-memory fakes, users of every role, and trajectory logs."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InMemoryArchive
from services.eventlog.events import new_event, new_event_id
from services.eventlog.memory_bus import InMemoryBus
from services.eventlog.topics import TRAJECTORIES
from services.gateway.app import Gateway
from services.gateway.attention import InMemoryAttentionLedger
from services.gateway.feeds import BusLogFeed
from services.gateway.http_app import create_app
from services.gateway.users import InMemoryUserStore, Role

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Run:
    """Writes one trajectory's events the way the services would, one second apart."""

    def __init__(self, start: datetime = T0) -> None:
        self.trajectory_id = new_event_id()
        self.clock = start
        self.events: list[pb.Event] = []

    def event(self, body: Message) -> pb.Event:
        occurred_at = Timestamp()
        occurred_at.FromDatetime(self.clock)
        self.clock += timedelta(seconds=1)
        event = new_event(
            body, trajectory_id=self.trajectory_id, service="test", occurred_at=occurred_at
        )
        self.events.append(event)
        return event

    def started(
        self, max_steps: int = 100, max_seconds: int = 3600, max_evals: int = 3
    ) -> pb.Event:
        budgets = pb.Budgets(max_steps=max_steps, max_seconds=max_seconds, max_evals=max_evals)
        return self.event(pb.TrajectoryStarted(task_id="toy-task", budgets=budgets))

    def step(
        self,
        tool: str = "run_command",
        args: dict | None = None,
        *,
        success: bool = True,
        observed: dict | None = None,
        eval_score: float | None = None,
    ) -> tuple[pb.Event, pb.Event]:
        """An action and its observation."""
        index = sum(1 for e in self.events if e.WhichOneof("body") == "action_proposed")
        call = pb.ToolCall(call_id=f"c{index}", name=tool, arguments_json=json.dumps(args or {}))
        action = self.event(
            pb.ActionProposed(step_index=index, tool_call=call, prompt_digest="sha256:00")
        )
        body = pb.ObservationRecorded(
            action_id=action.event_id,
            step_index=index,
            tool_name=tool,
            success=success,
            observation_json=json.dumps({"success": success, **(observed or {})}),
        )
        if eval_score is not None:
            body.eval_score = eval_score
        return action, self.event(body)

    def ended(self) -> pb.Event:
        return self.event(pb.TrajectoryEnded(reason=pb.END_REASON_FINISHED, final_score=50.0))


@dataclass
class Wired:
    """The gateway over fakes, its HTTP client factory and one token per role."""

    gateway: Gateway
    archive: InMemoryArchive
    bus: InMemoryBus
    tokens: dict[str, str]

    async def record(self, events: list[pb.Event]) -> None:
        """As if the services published the events and the recorder archived them."""
        await self.archive.append([(TRAJECTORIES.name, e) for e in events])

    def published(self) -> list[pb.Event]:
        """What the gateway published on the log."""
        return [pb.Event.FromString(r.value) for r in self.bus.records(TRAJECTORIES.name)]

    def client(self, role: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        transport = httpx.ASGITransport(app=create_app(self.gateway))
        return httpx.AsyncClient(transport=transport, base_url="http://gateway", headers=headers)


@pytest.fixture
def new_run() -> Callable[..., Run]:
    return Run


@pytest.fixture
async def wired() -> AsyncIterator[Wired]:
    archive, bus, users = InMemoryArchive(), InMemoryBus(), InMemoryUserStore()
    tokens = {role.value: (await users.add(f"{role.value}-1", role))[1] for role in Role}
    gateway = Gateway(users, InMemoryAttentionLedger(), archive, bus, presence_interval_s=0.2)
    await bus.start()
    feed = BusLogFeed(bus)
    task = asyncio.create_task(feed.run(gateway.live.on_event))
    await asyncio.wait_for(feed.ready.wait(), 5)
    yield Wired(gateway, archive, bus, tokens)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await bus.stop()


@pytest.fixture
async def served(wired) -> AsyncIterator[str]:
    """The HTTP app on a real loopback port (streams need a real server); yields its URL."""
    import uvicorn

    config = uvicorn.Config(
        create_app(wired.gateway), host="127.0.0.1", port=0, log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)
