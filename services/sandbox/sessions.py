"""Sessions: long-lived sandboxed shells that run one command at a time, in the foreground
or in the background, with their output kept for polling."""

from __future__ import annotations

import asyncio
import codecs
import re
import secrets
import time
from dataclasses import dataclass, field

from services.sandbox.backend import SandboxBackend, SandboxSpec, ShellProcess
from services.sandbox.output_buffer import CommandOutput, OutputBuffer

# A command's full output is kept up to this size (the newest part wins).
MAX_COMMAND_OUTPUT_CHARS = 4_000_000


class SessionBusy(RuntimeError):
    """The session is still running a command."""


class SessionIdle(RuntimeError):
    """Input was sent to a session that runs no command."""


@dataclass
class CommandRun:
    """One command and, once done, how it ended."""

    command: str
    started_at: float = field(default_factory=time.monotonic)
    output: CommandOutput = field(default_factory=lambda: CommandOutput(MAX_COMMAND_OUTPUT_CHARS))
    done: asyncio.Event = field(default_factory=asyncio.Event)
    exit_code: int | None = None
    # Set when the shell itself went away (killed, `exit`, crashed) before the command ended.
    shell_died: bool = False

    @property
    def seconds(self) -> float:
        """How long it has run."""
        return time.monotonic() - self.started_at


def _bash_quote(command: str) -> str:
    """`command` as one bash $'…' word, so a multi-line command stays one input line."""
    out = []
    for byte in command.encode():
        char = chr(byte)
        if char.isalnum() or char in ' _-.,:/=+@%^&*()[]{}<>|;~#!?`"$':
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    return "$'" + "".join(out) + "'"


class Session:
    """A named shell in the trajectory's sandbox; restarted fresh after a kill."""

    def __init__(self, name: str, spec: SandboxSpec, backend: SandboxBackend) -> None:
        self.name = name
        self._spec = spec
        self._backend = backend
        self._shell: ShellProcess | None = None
        self._reader: asyncio.Task[None] | None = None
        self.buffer = OutputBuffer()
        self.current: CommandRun | None = None
        self.last: CommandRun | None = None
        self._nonce = secrets.token_hex(8)
        self._marker = re.compile(rf"\n?__APOLLO_DONE_{self._nonce}_(\d+)__\n")
        self._pending = ""
        # Set at end of output: the shell is dying even if its process is not reaped yet.
        self._shell_gone = False

    @property
    def busy(self) -> bool:
        """Whether a command is running."""
        return self.current is not None

    async def _ensure_shell(self) -> bool:
        """Start the shell if needed; True when it had to be (re)started."""
        if self._shell is not None and self._shell.alive and not self._shell_gone:
            return False
        if self._shell is not None:
            await self.kill()
        self._shell_gone = False
        self._shell = await self._backend.start_shell(self._spec)
        self._reader = asyncio.create_task(self._read_forever(), name=f"session:{self.name}")
        return True

    async def start(self, command: str) -> tuple[CommandRun, bool]:
        """Start `command`; return it and whether the shell was (re)started for it."""
        if self.current is not None:
            raise SessionBusy(
                f"session {self.name!r} is still running {self.current.command!r} "
                f"(for {self.current.seconds:.0f} s)"
            )
        restarted = await self._ensure_shell()
        run = CommandRun(command)
        self.current = run
        # One input line: bash has read all of it before the command can read stdin.
        line = (
            f"eval {_bash_quote(command)}; printf '\\n__APOLLO_DONE_%s_%d__\\n' {self._nonce} $?\n"
        )
        assert self._shell is not None
        await self._shell.write(line.encode())
        return run, restarted

    async def send_input(self, text: str) -> None:
        """Type `text` (and Enter) into the running command."""
        if self.current is None or self._shell is None:
            raise SessionIdle(f"session {self.name!r} runs no command to send input to")
        await self._shell.write(text.encode() + b"\n")

    async def kill(self) -> bool:
        """Kill every process of the session; True when something was running."""
        was_busy = self.current is not None
        if self._shell is not None:
            await self._shell.kill()
        if self._reader is not None:
            await self._reader
        self._shell = self._reader = None
        return was_busy

    async def _read_forever(self) -> None:
        assert self._shell is not None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while chunk := await self._shell.read():
            self._consume(decoder.decode(chunk))
        self._consume(decoder.decode(b"", final=True), final=True)
        self._shell_gone = True
        if self.current is not None:
            self.current.shell_died = True
            self._finish(None)

    def _consume(self, text: str, final: bool = False) -> None:
        self._pending += text
        while match := self._marker.search(self._pending):
            self._emit(self._pending[: match.start()])
            self._pending = self._pending[match.end() :]
            self._finish(int(match.group(1)))
        # Hold back only what may be the start of a marker split across reads.
        cut = len(self._pending) if final else self._safe_prefix_length()
        self._emit(self._pending[:cut])
        self._pending = self._pending[cut:]

    def _safe_prefix_length(self) -> int:
        newline = self._pending.rfind("\n")
        if newline < 0:
            return len(self._pending)
        tail = self._pending[newline + 1 :]
        head = f"__APOLLO_DONE_{self._nonce}_"
        if head.startswith(tail) or tail.startswith(head):
            return newline
        return len(self._pending)

    def _emit(self, text: str) -> None:
        if not text:
            return
        self.buffer.append(text)
        if self.current is not None:
            self.current.output.append(text)

    def _finish(self, exit_code: int | None) -> None:
        run = self.current
        if run is None:
            return
        run.exit_code = exit_code
        self.current, self.last = None, run
        run.done.set()


class SessionLimitReached(RuntimeError):
    """A trajectory may hold only so many sessions."""


class UnknownSession(KeyError):
    """No session has this name."""

    def __str__(self) -> str:
        return str(self.args[0])


class Sessions:
    """The sessions of one trajectory, by name."""

    def __init__(self, spec: SandboxSpec, backend: SandboxBackend, max_sessions: int = 8) -> None:
        self.spec = spec
        self._backend = backend
        self._max = max_sessions
        self._by_name: dict[str, Session] = {}
        self._counter = 0

    def names(self) -> list[str]:
        """Open session names, oldest first."""
        return list(self._by_name)

    def create(self) -> Session:
        """A new session named session_N (its shell starts with its first command)."""
        if len(self._by_name) >= self._max:
            raise SessionLimitReached(
                f"{self._max} sessions are open; close one with close_session first"
            )
        self._counter += 1
        session = Session(f"session_{self._counter}", self.spec, self._backend)
        self._by_name[session.name] = session
        return session

    def get(self, name: str) -> Session:
        """The session called `name`."""
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self._by_name) or "none; call create_session"
            raise UnknownSession(f"no session {name!r} (open sessions: {known})") from None

    def get_or_create_default(self, name: str | None) -> Session:
        """`name`, or the first session (created if there is none) when no name is given."""
        if name:
            return self.get(name)
        if self._by_name:
            return next(iter(self._by_name.values()))
        return self.create()

    async def close(self, name: str) -> None:
        """Kill and forget one session."""
        session = self.get(name)
        await session.kill()
        del self._by_name[name]

    async def close_all(self) -> None:
        """Kill every session (the trajectory ended)."""
        await asyncio.gather(*(s.kill() for s in self._by_name.values()))
        self._by_name.clear()
