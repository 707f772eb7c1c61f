"""Round-trip latency, publish to handler, through KafkaBus against raw aiokafka.

Both paths run in one process on one Tansu broker, taking turns sample by sample, so
machine noise hits them alike. Prints one JSON line per percentile on stdout.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from apollo.v1 import events_pb2 as pb
from bench._report import percentile_lines, print_lines
from services.cli.stack.broker import TansuBroker
from services.eventlog.admin import ensure_topics
from services.eventlog.bus import Delivery, KafkaBus, KafkaTuning, Subscription
from services.eventlog.codec import encode
from services.eventlog.events import new_event
from services.eventlog.topics import ALL_TOPICS, TRAJECTORIES, Topic
from services.runtime.observability import configure_logging

WARMUP = 200
SAMPLES = 2_000
RAW_TOPIC = Topic("bench.raw", 1, "the raw aiokafka path's own topic")
# Only the group join is quicker; fetch settings are the bus defaults, as in production.
TUNING = KafkaTuning(session_timeout_ms=2000, heartbeat_interval_ms=500)


def guidance(trajectory_id: str) -> pb.Event:
    return new_event(
        pb.GuidanceSubmitted(annotator="bench", text="keep going"),
        trajectory_id=trajectory_id,
        service="bench",
    )


class BusPath:
    """publish() on KafkaBus until the subscription's handler has the event."""

    def __init__(self, address: str) -> None:
        self._bus = KafkaBus(address, "bench-bus", tuning=TUNING)
        self._trajectory_id = str(uuid.uuid4())
        self._waiting: tuple[str, asyncio.Future[None]] | None = None

    async def start(self) -> None:
        await self._bus.start()
        await self._bus.subscribe(
            Subscription("bench", (TRAJECTORIES.name,), "bench", self._arrived)
        )

    async def stop(self) -> None:
        await self._bus.stop()

    async def _arrived(self, delivery: Delivery) -> None:
        if self._waiting is not None and delivery.event.event_id == self._waiting[0]:
            self._waiting[1].set_result(None)

    async def round_trip_ms(self) -> float:
        event = guidance(self._trajectory_id)
        arrived = asyncio.get_running_loop().create_future()
        self._waiting = (event.event_id, arrived)
        started = time.perf_counter()
        await self._bus.publish(event)
        await arrived
        return (time.perf_counter() - started) * 1000


class RawPath:
    """send_and_wait() on a plain producer until a consumer's getmany() returns the bytes."""

    def __init__(self, address: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=address, acks="all", linger_ms=0, client_id="bench-raw"
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=address, group_id=None, fetch_max_wait_ms=TUNING.fetch_max_wait_ms
        )
        self._partition = TopicPartition(RAW_TOPIC.name, 0)
        self._key = str(uuid.uuid4()).encode()

    async def start(self) -> None:
        await self._producer.start()
        await self._consumer.start()
        self._consumer.assign([self._partition])
        await self._consumer.seek_to_end(self._partition)

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._producer.stop()

    async def round_trip_ms(self) -> float:
        value = encode(guidance(self._key.decode()))
        started = time.perf_counter()
        await self._producer.send_and_wait(RAW_TOPIC.name, value, key=self._key)
        while True:
            fetched = await self._consumer.getmany(self._partition, timeout_ms=1000)
            if any(r.value == value for r in fetched.get(self._partition, [])):
                return (time.perf_counter() - started) * 1000


async def measure(address: str) -> tuple[list[float], list[float]]:
    """Latency samples of both paths, taken in turns (the order swaps every round)."""
    bus, raw = BusPath(address), RawPath(address)
    await bus.start()
    await raw.start()
    samples: dict[object, list[float]] = {bus: [], raw: []}
    try:
        for round_number in range(WARMUP + SAMPLES):
            order = (bus, raw) if round_number % 2 == 0 else (raw, bus)
            for path in order:
                elapsed = await path.round_trip_ms()
                if round_number >= WARMUP:
                    samples[path].append(elapsed)
    finally:
        await raw.stop()
        await bus.stop()
    return samples[bus], samples[raw]


def report(bus_ms: list[float], raw_ms: list[float]) -> None:
    """One JSON line per percentile: the bus, the raw baseline and their ratio."""
    print_lines(percentile_lines("bus_roundtrip", bus_ms, raw_ms))


async def main() -> None:
    """Start a private broker, measure, report, stop the broker."""
    configure_logging("bench", "WARNING")  # logs go to stderr; stdout is for results
    broker = TansuBroker().start()
    try:
        await ensure_topics(broker.address, (*ALL_TOPICS, RAW_TOPIC))
        report(*await measure(broker.address))
    finally:
        broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
