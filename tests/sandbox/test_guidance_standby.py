"""The consumers on the path of guidance into the next prompt stand by once quiet; the rest
idle (fetch pacing: a standby consumer costs the broker and itself CPU while agents sleep)."""

from __future__ import annotations

from pathlib import Path

from services.eventlog.subscription import Subscription
from services.policy.backends import Backends
from services.policy.service import PolicyService
from services.policy.settings import PolicySettings
from services.sandbox.ledger import InMemoryExecutionLedger
from services.summarizer.service import SummarizerService
from services.summarizer.settings import SummarizerSettings
from tests.sandbox.test_service import Harness


class SubscriptionsOnly:
    """A bus that records what subscribes to it and delivers nothing."""

    def __init__(self) -> None:
        self.subscriptions: list[Subscription] = []

    async def subscribe(self, subscription: Subscription) -> None:
        self.subscriptions.append(subscription)


async def test_the_sandbox_and_the_policy_stand_by_and_the_summarizer_does_not(
    workspace_root: Path, backend
) -> None:
    bus = SubscriptionsOnly()
    sandbox = Harness(bus, InMemoryExecutionLedger(), workspace_root, backend).service

    await sandbox.start()
    await PolicyService(bus, Backends(1), PolicySettings()).start()
    await SummarizerService(bus, SummarizerSettings()).start()

    standing_by = {s.name: s.standby for s in bus.subscriptions}
    assert standing_by == {"sandbox": True, "policy": True, "summarizer": False}
    await sandbox.stop()
