"""The composition root: the gateway's parts, wired from adapters (tests pass fakes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from services.eventlog.archive import EventArchive
from services.eventlog.subscription import Bus
from services.gateway.attention import AttentionLedger
from services.gateway.control import Control
from services.gateway.drift import DriftRules
from services.gateway.live import LiveLog
from services.gateway.presence import Presence
from services.gateway.users import UserStore
from services.tasks.packs import TaskCatalog

STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class Gateway:
    """Everything the HTTP and gRPC front ends need, behind ports."""

    users: UserStore
    attention: AttentionLedger
    archive: EventArchive
    bus: Bus
    rules: DriftRules = field(default_factory=DriftRules)
    presence_interval_s: float = 5.0
    secure_cookie: bool = False
    static_dir: Path = STATIC_DIR
    presence: Presence = field(default_factory=Presence)
    tasks: TaskCatalog = field(default_factory=TaskCatalog)
    live: LiveLog = field(init=False)
    control: Control = field(init=False)

    def __post_init__(self) -> None:
        self.live = LiveLog(self.archive, self.rules)
        self.control = Control(self.bus, self.live, self.tasks)
