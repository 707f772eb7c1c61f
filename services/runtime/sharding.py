"""Shards by hash: processes of one service split the trajectories between them by a stable
hash of the trajectory id, each reading every event but acting only on its own."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count`; `setting` names the variables they come from, for errors."""

    index: int = 0
    count: int = 1
    setting: str = field(default="shard", compare=False)

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(
                f"{self.setting}_INDEX is {self.index} but {self.setting}_COUNT is {self.count}: "
                f"shards are numbered 0 to {self.count - 1}"
            )

    def owns(self, trajectory_id: str) -> bool:
        """Whether this shard acts on the trajectory."""
        digest = hashlib.sha256(trajectory_id.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index

    def group(self, prefix: str) -> str:
        """The consumer group of this shard: each shard reads every event under its own, and
        a single shard keeps the plain name."""
        return prefix if self.count == 1 else f"{prefix}.shard-{self.index}-of-{self.count}"
