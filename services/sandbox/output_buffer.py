"""A session's scroll-back: the newest lines of everything its shell printed."""

from __future__ import annotations

from collections import deque

# ResearchGym keeps 10,000 lines per session and shows the newest 30,000 characters.
MAX_LINES = 10_000
# A line that never ends (`yes | tr -d '\n'`) is broken so memory stays bounded.
MAX_LINE_CHARS = 16_384


class OutputBuffer:
    """Bounded lines plus the unfinished last one."""

    def __init__(self, max_lines: int = MAX_LINES) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._partial = ""
        self.total_chars = 0

    def append(self, text: str) -> None:
        """Add output as it arrived."""
        self.total_chars += len(text)
        pieces = (self._partial + text).split("\n")
        self._partial = pieces.pop()
        self._lines.extend(pieces)
        while len(self._partial) > MAX_LINE_CHARS:
            self._lines.append(self._partial[:MAX_LINE_CHARS])
            self._partial = self._partial[MAX_LINE_CHARS:]

    def tail(self, max_chars: int) -> str:
        """The newest `max_chars` characters."""
        newest: list[str] = [self._partial]
        size = len(self._partial)
        for line in reversed(self._lines):
            if size >= max_chars:
                break
            newest.append(line)
            size += len(line) + 1
        text = "\n".join(reversed(newest))
        return text[-max_chars:] if len(text) > max_chars else text


class CommandOutput:
    """What one command printed: all of it up to a cap, keeping the newest when over."""

    def __init__(self, max_chars: int) -> None:
        self._max = max_chars
        self._chunks: deque[str] = deque()
        self._size = 0
        self.dropped_chars = 0

    def append(self, text: str) -> None:
        """Add output, dropping the oldest beyond the cap."""
        self._chunks.append(text)
        self._size += len(text)
        while self._size > self._max and len(self._chunks) > 1:
            oldest = self._chunks.popleft()
            self._size -= len(oldest)
            self.dropped_chars += len(oldest)

    def text(self) -> str:
        """Everything kept, oldest first."""
        return "".join(self._chunks)
