"""Task packs: a task's description, starting workspace, hidden grader and reference solution."""

from __future__ import annotations

import importlib.resources
import json
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.tasks.families import FamilyError, Generator, check_seed, load_generator, write_files

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
    """A pack directory: task.yaml, description.md, hints.md, grader.py, reference.yaml, and
    either family.py (a generated family of instances, on top of workspace/ if any) or a
    static workspace/ and hidden/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            raw = yaml.safe_load((root / "task.yaml").read_text())
            self.manifest = TaskManifest.model_validate(raw)
        except (OSError, yaml.YAMLError, ValidationError) as error:
            raise TaskPackError(f"task pack {root}: bad task.yaml: {error}") from error
        for required in ("description.md", "grader.py", "reference.yaml"):
            if not (root / required).exists():
                raise TaskPackError(f"task pack {root} lacks {required}")
        if not (self.is_family or self.workspace_template.is_dir()):
            raise TaskPackError(f"task pack {root} lacks workspace (or family.py)")

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
        """Hidden data (test labels) only the grader reads, of a pack that is no family."""
        return self.root / "hidden"

    @property
    def is_family(self) -> bool:
        """Whether the instances are generated from a seed (the pack has a family.py)."""
        return (self.root / "family.py").is_file()

    @cached_property
    def generator(self) -> Generator:
        """The family's generate(seed); raises `TaskPackError` when it does not load."""
        try:
            return load_generator(self.root / "family.py")
        except FamilyError as error:
            raise TaskPackError(f"task pack {self.id}: {error}") from error

    def instance(self, seed: int = 0) -> TaskInstance:
        """The instance of `seed` (every seed names the same one when the pack is no family)."""
        try:
            check_seed(seed)
        except FamilyError as error:
            raise TaskPackError(f"task pack {self.id}: {error}") from error
        return TaskInstance(self, seed)

    def reference(self) -> list[ToolCallSpec]:
        """The reference solution as tool calls."""
        raw = yaml.safe_load((self.root / "reference.yaml").read_text())
        return [ToolCallSpec.model_validate(step) for step in raw]

    def summary(self) -> dict:
        """{"id", "title", "domain", "family"} for listings."""
        manifest = self.manifest
        return {
            "id": self.id,
            "title": manifest.title,
            "domain": manifest.domain,
            "family": self.is_family,
        }


@dataclass(frozen=True)
class TaskInstance:
    """One instance of a pack: the workspace a trajectory starts with, the labels it is graded
    against."""

    pack: TaskPack
    seed: int

    def files(self) -> tuple[dict[str, str], dict[str, str]]:
        """The generated (workspace, hidden) files, by relative path; none for a static pack."""
        if not self.pack.is_family:
            return {}, {}
        generate = self.pack.generator
        try:
            workspace, hidden = generate(self.seed)
            return dict(workspace), dict(hidden)
        except Exception as error:
            raise TaskPackError(f"task {self.pack.id} seed {self.seed}: {error}") from error

    def write_workspace(self, root: Path) -> None:
        """Create `root` as the instance's fresh workspace."""
        self._write(self.pack.workspace_template, self.files()[0], root)

    def write_hidden(self, root: Path) -> None:
        """Create `root` holding the instance's hidden data, for its grader."""
        self._write(self.pack.hidden, self.files()[1], root)

    def _write(self, template: Path, generated: dict[str, str], root: Path) -> None:
        if template.is_dir():
            shutil.copytree(template, root)
        root.mkdir(parents=True, exist_ok=True)
        try:
            write_files(generated, root)
        except FamilyError as error:
            raise TaskPackError(f"task {self.pack.id} seed {self.seed}: {error}") from error


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
