"""The policy and summarizer on a real broker: a run with summaries, then a restart mid-run."""

from __future__ import annotations

import asyncio

import pytest

from apollo.v1 import events_pb2 as pb
from bench._echo_sandbox import EchoSandbox
from bench._scripted import scripted_start
from services.eventlog.admin import ensure_topics
from services.eventlog.bus import Delivery, KafkaBus, KafkaTuning, Subscription
from services.eventlog.topics import TRAJECTORIES
from services.policy.backends import Backends
from services.policy.service import PolicyService
from services.policy.settings import PolicySettings
from services.summarizer.service import SummarizerService
from services.summarizer.settings import SummarizerSettings
from services.trajectory import fold
from services.trajectory.digest_check import check_digests

pytestmark = pytest.mark.timeout(90)

TUNING = KafkaTuning(session_timeout_ms=2000, heartbeat_interval_ms=500)
TOOLS = [
    pb.ToolSpec(name="think", description="Note a thought.", parameters_json_schema="{}"),
    pb.ToolSpec(name="finish", description="End.", parameters_json_schema="{}"),
]


class Log:
    """Every event of the trajectory topic, as read back from the broker."""

    def __init__(self) -> None:
        self.events: list[pb.Event] = []

    async def on_delivery(self, delivery: Delivery) -> None:
        self.events.append(delivery.event)

    async def until(self, trajectory_id: str, done) -> object:
        while not done(state := fold(self.events, trajectory_id)):
            await asyncio.sleep(0.02)
        return state


async def test_a_run_with_summaries_survives_a_policy_restart(broker) -> None:
    await ensure_topics(broker.address)
    settings = PolicySettings(kafka=broker.address, policy_replay_grace_s=0.2)
    log = Log()
    async with KafkaBus(broker.address, "test-infra", tuning=TUNING) as bus:
        await bus.subscribe(Subscription("log", (TRAJECTORIES.name,), "log", log.on_delivery))
        await EchoSandbox(bus).start()
        await SummarizerService(bus, SummarizerSettings()).start()
        start = scripted_start(40, TOOLS, [("think", {})] * 15 + [("finish", {})])
        start.trajectory_started.summary_threshold_tokens = 700
        policy_bus = KafkaBus(broker.address, "test-policy-1", tuning=TUNING)
        await policy_bus.start()
        first = PolicyService(policy_bus, Backends(4), settings)
        await first.start()
        await bus.publish(start)
        await log.until(start.trajectory_id, lambda s: len(s.steps) >= 5)
        await first.stop()
        await policy_bus.stop()  # the policy is gone mid-run
        async with KafkaBus(broker.address, "test-policy-2", tuning=TUNING) as again:
            second = PolicyService(again, Backends(4), settings)
            await second.start()
            state = await log.until(start.trajectory_id, lambda s: s.is_over)
            await second.stop()
    assert [step.index for step in state.steps] == list(range(16))
    assert state.steps[-1].tool_name == "finish"
    assert state.summaries
    assert all(check.matches for check in check_digests(state))
