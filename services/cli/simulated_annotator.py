"""The simulated annotator: a client of the gateway's HTTP API that steps in on drift.

It does what the paper's experts do, crudely: it watches one trajectory and, when the
gateway's drift signals flag it, sends the task's next hint as guidance. While it watches
it sends the web app's attention heartbeats, so the gateway records its time as it records
a person's. Demos, tests, benchmarks and experiments use it in place of a person.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import structlog

from services.gateway.attention import MAX_HEARTBEAT_SECONDS

log = structlog.get_logger(service="simulated-annotator")

# A flagged trajectory gets a new hint at most this often (in agent steps).
STEPS_BETWEEN_HINTS = 2


def hints_of(path: Path) -> list[str]:
    """The bullet points of a task pack's hints.md, one hint each."""
    return [
        line.removeprefix("- ").strip()
        for line in path.read_text().splitlines()
        if line.startswith("- ") and line[2:].strip()
    ]


@dataclass
class SimulatedAnnotator:
    """Sends `hints` one by one while the gateway flags the trajectory as needing attention."""

    gateway_url: str
    token: str
    trajectory_id: str
    hints: list[str]
    poll_s: float = 0.5
    # Tests pass an in-process transport; by default it is the network.
    transport: httpx.AsyncBaseTransport | None = None
    sent: int = 0
    _last_hint_step: int = field(default=-STEPS_BETWEEN_HINTS)

    async def run(self) -> int:
        """Watch until the trajectory ends or the hints run out; return how many were sent."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(
            base_url=self.gateway_url, headers=headers, transport=self.transport
        ) as client:
            watched_since = time.monotonic()
            while self.sent < len(self.hints):
                reply = await client.get(f"/api/trajectories/{self.trajectory_id}")
                if reply.status_code == 200:
                    summary = reply.json()["summary"]
                    if summary["status"] != "running":
                        break
                    if self._due(summary):
                        await self._send(client, summary)
                await asyncio.sleep(self.poll_s)
                watched_since = await self._heartbeat(client, watched_since)
        return self.sent

    async def _heartbeat(self, client: httpx.AsyncClient, since: float) -> float:
        """Report the seconds watched since `since` (as the web app does); the new mark."""
        now = time.monotonic()
        seconds = min(now - since, MAX_HEARTBEAT_SECONDS)
        if seconds > 0:
            await client.post(
                f"/api/trajectories/{self.trajectory_id}/attention", json={"seconds": seconds}
            )
        return now

    def _due(self, summary: dict) -> bool:
        return (
            summary["needs_attention"]
            and summary["steps"] - self._last_hint_step >= STEPS_BETWEEN_HINTS
        )

    async def _send(self, client: httpx.AsyncClient, summary: dict) -> None:
        hint = self.hints[self.sent]
        reply = await client.post(
            f"/api/trajectories/{self.trajectory_id}/guidance",
            json={"text": hint, "kind": "advice", "flag_steps": []},
        )
        if reply.status_code == 202:
            self.sent += 1
            self._last_hint_step = summary["steps"]
            log.info("guidance sent", reasons=summary["attention_reasons"], hint=hint)
