"""Event ids derived from what an event answers, so answering twice yields the same event."""

from __future__ import annotations

import hashlib

from google.protobuf.timestamp_pb2 import Timestamp

_MS_BITS = (1 << 48) - 1


def derived_event_id(at: Timestamp, *parts: str) -> str:
    """A UUIDv7 whose time is `at` (the cause's time) and whose random bits hash `parts`.

    A service that crashes between deciding and recording, then decides again, publishes
    an event with the same id: every consumer deduplicates on event_id, so the second
    one is a redelivery, never a second fact.
    """
    unix_ms = (at.seconds * 1000 + at.nanos // 1_000_000) & _MS_BITS
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    random_bits = int.from_bytes(digest[:10], "big")
    rand_a = random_bits >> 68
    rand_b = random_bits & ((1 << 62) - 1)
    value = unix_ms << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    # What str(uuid.UUID(int=value)) spells, without building the UUID object.
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
