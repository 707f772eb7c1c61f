"""Dead letters: what a consumer writes instead of crashing on a message it cannot take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from apollo.v1 import deadletter_pb2
from services.eventlog.kafka.readers import CATCH_UP_FETCH_WAIT_MS, KafkaReader
from services.eventlog.positioned import read_until, reading
from services.eventlog.topics import DEADLETTER

DeadLetter = deadletter_pb2.DeadLetter

# The error class of a message whose handler kept failing (the codec names the others:
# "undecodable", "invalid", "unsupported_version", "oversized").
HANDLER_FAILED = "handler_failed"


class RawMessage(Protocol):
    """A message as read from a topic, before decoding (an aiokafka ConsumerRecord fits)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


class Rejection(Protocol):
    """Why a message was refused (codec.RejectedMessage and HandlerFailure fit)."""

    @property
    def error_class(self) -> str: ...
    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class HandlerFailure:
    """A decodable event whose handler failed on every attempt."""

    reason: str
    error_class: str = HANDLER_FAILED

    @classmethod
    def after(cls, error: BaseException, attempts: int) -> HandlerFailure:
        """The failure a handler's last exception stands for."""
        return cls(f"handler failed {attempts} times, last with {type(error).__name__}: {error}")


def dead_letter_for(message: RawMessage, rejection: Rejection, consumer_group: str) -> DeadLetter:
    """The dead-letter record of a rejected message, carrying its raw bytes."""
    letter = DeadLetter(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key or b"",
        raw=message.value or b"",
        reason=rejection.reason,
        error_class=rejection.error_class,
        consumer_group=consumer_group,
    )
    letter.dead_lettered_at.GetCurrentTime()
    return letter


def parse_dead_letter(raw: bytes) -> DeadLetter:
    """Read a dead-letter record back from the dead-letter topic."""
    letter = DeadLetter()
    letter.ParseFromString(raw)
    return letter


async def read_dead_letters(
    bootstrap: str, *, max_message_bytes: int = 8 * 1024 * 1024
) -> list[DeadLetter]:
    """Every dead letter on the broker now, oldest first per partition (for operators and tests)."""
    # No group: reading the dead letters must not move anyone's committed offsets.
    reader = KafkaReader(
        bootstrap,
        client_id="apollo-deadletters",
        fetch_max_wait_ms=CATCH_UP_FETCH_WAIT_MS,
        max_partition_fetch_bytes=max_message_bytes,
    )
    async with reading(reader, [DEADLETTER.name]) as ends:
        messages = await read_until(reader, ends)
    return [parse_dead_letter(message.value or b"") for message in messages]
