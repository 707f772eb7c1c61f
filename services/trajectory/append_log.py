"""Append-only logs shared by successive trajectory states, each state reading its own prefix.

A trajectory's history only grows, so the states folded one event after another share one
copy of it: the fold appends to a log, and each state holds a read-only view of the prefix
that was there when it was made. A view never changes after it was handed out, because the
fold appends only while it extends the newest state (an older state is copied first).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from itertools import islice
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class LogView(Sequence[T]):
    """The first `length` items of an append-only list: a tuple that shares its storage."""

    __slots__ = ("_items", "_length")

    def __init__(self, items: list[T], length: int) -> None:
        self._items = items
        self._length = length

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...
    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple(self._item(n) for n in range(*index.indices(self._length)))
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("log index out of range")
        return self._item(index)

    def __iter__(self) -> Iterator[T]:
        return islice(self._items, self._length)

    def __reversed__(self) -> Iterator[T]:
        return (self._item(n) for n in range(self._length - 1, -1, -1))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(other) == self._length and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def _item(self, position: int) -> T:
        return self._items[position]


class KeyLogView(LogView[str]):
    """A prefix of an append-only list of distinct keys, with membership in O(1)."""

    __slots__ = ("_positions",)

    def __init__(self, keys: list[str], positions: dict[str, int], length: int) -> None:
        super().__init__(keys, length)
        self._positions = positions

    def __contains__(self, key: object) -> bool:
        return self._positions.get(key, self._length) < self._length  # type: ignore[call-overload]


class KeySetView(AbstractSet[str]):
    """The same prefix as a set (equal to any set of the same keys)."""

    __slots__ = ("_keys",)

    def __init__(self, keys: KeyLogView) -> None:
        self._keys = keys

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    __hash__ = AbstractSet._hash

    def __repr__(self) -> str:
        return f"KeySetView({len(self)} keys)"


class PositionsView(Mapping[int, int]):
    """A shared key -> position index, as it was when the log held `length` items."""

    __slots__ = ("_length", "_positions")

    def __init__(self, positions: dict[int, int], length: int) -> None:
        self._positions = positions
        self._length = length

    def __getitem__(self, key: int) -> int:
        position = self._positions[key]
        if position >= self._length:
            raise KeyError(key)
        return position

    def __iter__(self) -> Iterator[int]:
        return (key for key, position in self._positions.items() if position < self._length)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class KeyLog:
    """Distinct keys in the order first added."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._keys: list[str] = []
        self._positions: dict[str, int] = {}
        for key in keys:
            self.add(key)

    def __contains__(self, key: str) -> bool:
        return key in self._positions

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str) -> None:
        """Append `key` unless it is there already."""
        if key not in self._positions:
            self._positions[key] = len(self._keys)
            self._keys.append(key)

    def view(self) -> KeyLogView:
        """The keys so far, as they stay."""
        return KeyLogView(self._keys, self._positions, len(self._keys))


class RevisedLogView(LogView[T]):
    """A prefix of a log whose items may be revised once: each read as it was at `version`."""

    __slots__ = ("_version",)

    def __init__(self, entries: list[Any], length: int, version: int) -> None:
        super().__init__(entries, length)
        self._version = version

    def __iter__(self) -> Iterator[T]:
        version = self._version
        for first, revised, revised_at in islice(self._items, self._length):
            yield revised if revised_at <= version else first

    def _item(self, position: int) -> T:
        first, revised, revised_at = self._items[position]
        return revised if revised_at <= self._version else first


class RevisedLog(Generic[T]):
    """An append-only log whose items may each be replaced once, remembering when.

    A state made at version v reads the revision only if it happened by then, so revising an
    item (a step getting its observation) leaves every older state as it was.
    """

    # The version of an item not revised yet: later than any state.
    _NEVER = float("inf")

    def __init__(self) -> None:
        self._entries: list[list[Any]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, position: int) -> T:
        first, revised, revised_at = self._entries[position]
        return first if revised_at == self._NEVER else revised

    def append(self, item: T) -> None:
        """Add an item at the end."""
        self._entries.append([item, None, self._NEVER])

    def revise(self, position: int, item: T, version: int) -> None:
        """Replace the item at `position` from `version` on (once per item)."""
        entry = self._entries[position]
        entry[1], entry[2] = item, version

    def view(self, version: int) -> RevisedLogView[T]:
        """The items as they are at `version`."""
        return RevisedLogView(self._entries, len(self._entries), version)
