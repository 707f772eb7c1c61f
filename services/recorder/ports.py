"""The recorder's ports; it also reads through `PositionedReader` and writes an `EventArchive`."""

from __future__ import annotations

from typing import Protocol


class RawPublisher(Protocol):
    """Where dead letters go (KafkaBus, or the in-memory log in unit tests)."""

    async def publish_raw(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Publish bytes as they are; return once the broker has them."""
