"""The work a chaos run disturbs: scripted trajectories on the real sandbox, and an annotator
per trajectory posting guidance through the gateway's HTTP API."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field

import httpx
from aiokafka.errors import KafkaError

from apollo.v1 import events_pb2 as pb
from services.cli.stack.home import ApolloHome
from services.eventlog.bus import KafkaBus
from services.tasks.packs import TaskCatalog
from services.tasks.starting import started_event

TASK = "data-filtering-dedup"
# A prompt this long is summarized every few steps, so summaries run through the kills.
SUMMARY_THRESHOLD_TOKENS = 1500
# Guidance stops this many steps before the end: those steps deliver what is still in flight.
TAIL_STEPS = 5
REQUEST_TIMEOUT_S = 5.0
PUBLISH_RETRY_S = 0.5


def chaos_script(rng: random.Random, steps: int) -> list[tuple[str, dict]]:
    """`steps` calls: commands in the sandbox, thoughts and short sleeps, then a slow tail
    and finish."""
    body: list[tuple[str, dict]] = []
    for n in range(steps - TAIL_STEPS - 1):
        body.append(
            rng.choice(
                [
                    ("run_command", {"command": f"echo step {n} >> steps.log && wc -l steps.log"}),
                    ("think", {"thought": f"step {n}: " + "consider the corpus " * 20}),
                    ("sleep", {"seconds": 0.2}),
                ]
            )
        )
    tail = [("sleep", {"seconds": 1.0})] * TAIL_STEPS
    return [*body, *tail, ("finish", {"summary": "survived"})]


def chaos_start(rng: random.Random, steps: int) -> pb.Event:
    return started_event(
        TaskCatalog().get(TASK),
        "scripted:reference",
        started_by="chaos",
        service="chaos",
        budgets=pb.Budgets(max_steps=steps),
        summary_threshold=SUMMARY_THRESHOLD_TOKENS,
        script=chaos_script(rng, steps),
    )


async def publish_until_acked(broker: str, event: pb.Event) -> None:
    """Publish `event`, retrying while the broker is down (a start must not be lost)."""
    while True:
        try:
            async with KafkaBus(broker, client_id="chaos") as bus:
                await bus.publish(event)
                return
        except (KafkaError, OSError):
            await asyncio.sleep(PUBLISH_RETRY_S)


@dataclass
class ChaosAnnotator:
    """Posts guidance to one trajectory now and then while it has steps to spare; keeps the
    ids of the messages the gateway accepted (2xx)."""

    home: ApolloHome
    token: str
    trajectory_id: str
    steps: int
    rng: random.Random
    mean_pause_s: float = 1.5
    accepted: list[str] = field(default_factory=list)
    refused: int = 0

    def gateway_url(self) -> str | None:
        """The gateway writes its address on every start; a restarted one may have moved."""
        try:
            return json.loads(self.home.gateway_file.read_text())["http"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            return None

    async def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
            while await self._step(client):
                await asyncio.sleep(self.rng.uniform(0, 2 * self.mean_pause_s))

    async def _step(self, client: httpx.AsyncClient) -> bool:
        """One look and maybe one message; False once the trajectory is past its guided part."""
        url = self.gateway_url()
        if url is None:
            return True
        base = f"{url}/api/trajectories/{self.trajectory_id}"
        try:
            reply = await client.get(base)
            if reply.status_code != 200:
                return True  # not seen yet by a (re)started gateway
            summary = reply.json()["summary"]
            if summary["status"] != "running" or summary["steps"] >= self.steps - TAIL_STEPS:
                return False
            text = f"guidance {len(self.accepted)} at step {summary['steps']}"
            reply = await client.post(f"{base}/guidance", json={"text": text, "kind": "advice"})
        except httpx.HTTPError:
            self.refused += 1
            return True
        if reply.is_success:
            self.accepted.append(reply.json()["event_id"])
        else:
            self.refused += 1
        return True
