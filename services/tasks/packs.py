"""Task packs: a task's description, starting workspace, hidden grader and reference solution."""

from __future__ import annotations

import importlib.resources
import json
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

BUILTIN_ROOT = Path(str(importlib.resources.files("services.tasks") / "builtin"))


class TaskPackError(ValueError):
    """A task pack that is missing or malformed."""


class TaskBudgets(BaseModel):
    """How much a trajectory on this task may use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(default=200, ge=1, description="Most agent steps")
    hours: float = Field(default=2.0, gt=0, description="Most wall-clock hours")
    evals: int = Field(default=3, ge=0, description="Agent-called evaluations (plus a final one)")


class TaskManifest(BaseModel):
    """The task.yaml of a pack."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable id, e.g. data-filtering-dedup")
    title: str
    domain: str = Field(description="InnovatorBench domain, e.g. 'data filtering'")
    budgets: TaskBudgets = TaskBudgets()
    tools: list[str] | None = Field(default=None, description="Enabled tools; all when absent")
    memory_mib: int = Field(default=4096, ge=64, description="RLIMIT_AS per process, MiB")
    grader_timeout_s: float = Field(default=60.0, gt=0, description="Wall limit of the grader")


class ToolCallSpec(BaseModel):
    """One step of a reference solution."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: str
    arguments: dict = Field(default_factory=dict)


class TaskPack:
    """A pack directory: task.yaml, description.md, hints.md, workspace/, hidden/, grader.py,
    reference.yaml."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            raw = yaml.safe_load((root / "task.yaml").read_text())
            self.manifest = TaskManifest.model_validate(raw)
        except (OSError, yaml.YAMLError, ValidationError) as error:
            raise TaskPackError(f"task pack {root}: bad task.yaml: {error}") from error
        for required in ("description.md", "workspace", "grader.py", "reference.yaml"):
            if not (root / required).exists():
                raise TaskPackError(f"task pack {root} lacks {required}")

    @property
    def id(self) -> str:
        """The task id."""
        return self.manifest.id

    @cached_property
    def description(self) -> str:
        """The task description shown to the agent."""
        return (self.root / "description.md").read_text()

    @property
    def workspace_template(self) -> Path:
        """What a fresh workspace starts as."""
        return self.root / "workspace"

    @property
    def grader(self) -> Path:
        """The hidden grader (run outside the sandbox)."""
        return self.root / "grader.py"

    @property
    def hidden(self) -> Path:
        """Hidden data (test labels) only the grader reads."""
        return self.root / "hidden"

    def reference(self) -> list[ToolCallSpec]:
        """The reference solution as tool calls."""
        raw = yaml.safe_load((self.root / "reference.yaml").read_text())
        return [ToolCallSpec.model_validate(step) for step in raw]

    def summary(self) -> dict:
        """{"id", "title", "domain"} for listings."""
        return {"id": self.id, "title": self.manifest.title, "domain": self.manifest.domain}


class TaskCatalog:
    """Task packs by id, from one or more directories of packs."""

    def __init__(self, roots: list[Path] | None = None) -> None:
        self._packs: dict[str, TaskPack] = {}
        for root in roots or [BUILTIN_ROOT]:
            for candidate in sorted(root.iterdir()):
                if (candidate / "task.yaml").is_file():
                    pack = TaskPack(candidate)
                    self._packs[pack.id] = pack

    @classmethod
    def with_builtins(cls, extra_roots: list[Path]) -> TaskCatalog:
        """The built-in packs and those under `extra_roots` (a later pack replaces a same id)."""
        return cls([BUILTIN_ROOT, *extra_roots])

    def ids(self) -> list[str]:
        """Every task id, sorted."""
        return sorted(self._packs)

    def get(self, task_id: str) -> TaskPack:
        """The pack of `task_id`."""
        if task_id not in self._packs:
            raise TaskPackError(f"unknown task {task_id!r}; known: {', '.join(self.ids())}")
        return self._packs[task_id]

    def listing_json(self) -> str:
        """The catalog as a JSON list."""
        return json.dumps([self._packs[i].summary() for i in self.ids()])
