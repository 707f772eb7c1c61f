"""Task families: a pack's instances generated from a seed, and which seeds train and which test.

A pack with a `family.py` is a family. That module defines `generate(seed)`, returning
`(workspace_files, hidden_files)`: dicts of relative path -> text, the same for the same seed.
Every instance asks for the same skills on different data with different hidden labels. A pack
without one has a single instance, whatever the seed.

The split rule: seeds below `HELDOUT_FIRST_SEED` are training instances, the rest are held
out. Seed 0, the default instance, is a training one.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

HELDOUT_FIRST_SEED = 1000
SPLIT_RULE = (
    f"seeds 0-{HELDOUT_FIRST_SEED - 1} are training instances, {HELDOUT_FIRST_SEED} and up held out"
)
# TrajectoryStarted.task_seed is a uint32.
MAX_SEED = 2**32 - 1

Generator = Callable[[int], tuple[Mapping[str, str], Mapping[str, str]]]


class FamilyError(ValueError):
    """A family generator that is missing, broken, or writes outside its directory."""


def is_heldout(seed: int) -> bool:
    """Whether the instance of `seed` is held out from training."""
    return seed >= HELDOUT_FIRST_SEED


def training_seeds(count: int) -> list[int]:
    """The first `count` training seeds: 0, 1, …"""
    return list(range(min(count, HELDOUT_FIRST_SEED)))


def heldout_seeds(count: int) -> list[int]:
    """The first `count` held-out seeds: 1000, 1001, …"""
    return list(range(HELDOUT_FIRST_SEED, HELDOUT_FIRST_SEED + count))


def check_seed(seed: int) -> None:
    """Raise `FamilyError` unless `seed` can name an instance."""
    if not 0 <= seed <= MAX_SEED:
        raise FamilyError(f"seed {seed} is out of range: use 0..{MAX_SEED}")


def load_generator(module: Path) -> Generator:
    """The `generate` function of a pack's family.py."""
    spec = importlib.util.spec_from_file_location(f"apollo_family_{module.parent.name}", module)
    if spec is None or spec.loader is None:
        raise FamilyError(f"{module} is not a Python module")
    loaded = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(loaded)
    except Exception as error:
        raise FamilyError(f"{module} failed to load: {error}") from error
    generate = getattr(loaded, "generate", None)
    if not callable(generate):
        raise FamilyError(f"{module} defines no generate(seed)")
    return generate


def write_files(files: Mapping[str, str], root: Path) -> None:
    """Write generated files under `root`; a path that leaves it raises `FamilyError`."""
    for name, text in files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise FamilyError(f"generated file {name!r} is not a path inside the directory")
        target = root.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
