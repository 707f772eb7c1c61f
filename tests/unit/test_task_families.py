"""Task families: seeded instances of a pack, deterministic, different per seed, split in two."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from services.tasks.families import (
    HELDOUT_FIRST_SEED,
    MAX_SEED,
    FamilyError,
    heldout_seeds,
    is_heldout,
    training_seeds,
    write_files,
)
from services.tasks.packs import BUILTIN_ROOT, TaskCatalog, TaskPackError

CATALOG = TaskCatalog()


@pytest.mark.parametrize("task_id", CATALOG.ids())
def test_the_same_seed_gives_the_same_instance_and_another_seed_other_data_and_labels(
    task_id: str,
) -> None:
    pack = CATALOG.get(task_id)
    workspace, hidden = pack.instance(7).files()
    assert (workspace, hidden) == pack.instance(7).files()
    other_workspace, other_hidden = pack.instance(HELDOUT_FIRST_SEED + 7).files()
    assert set(other_workspace) == set(workspace)
    assert set(other_hidden) == set(hidden)
    assert all(other_workspace[name] != text for name, text in workspace.items())
    assert all(other_hidden[name] != text for name, text in hidden.items())


def test_a_workspace_is_the_template_plus_the_generated_data(tmp_path: Path) -> None:
    instance = CATALOG.get("data-augmentation-synonyms").instance(3)
    instance.write_workspace(tmp_path / "ws")
    instance.write_hidden(tmp_path / "hidden")
    workspace, hidden = instance.files()
    assert (tmp_path / "ws" / "train.py").is_file()
    assert (tmp_path / "ws" / "data" / "train.jsonl").read_text() == workspace["data/train.jsonl"]
    assert sorted(p.name for p in (tmp_path / "hidden").iterdir()) == sorted(hidden)
    assert not (tmp_path / "ws" / "test_labels.json").exists()


def test_the_split_rule_puts_training_seeds_first_and_holds_out_the_rest() -> None:
    assert training_seeds(3) == [0, 1, 2]
    assert heldout_seeds(2) == [HELDOUT_FIRST_SEED, HELDOUT_FIRST_SEED + 1]
    assert not any(is_heldout(s) for s in training_seeds(HELDOUT_FIRST_SEED + 5))
    assert all(is_heldout(s) for s in heldout_seeds(5))


def test_a_seed_out_of_range_is_refused() -> None:
    pack = CATALOG.get("data-filtering-dedup")
    for seed in (-1, MAX_SEED + 1):
        with pytest.raises(TaskPackError, match="out of range"):
            pack.instance(seed)


def test_a_generated_path_that_leaves_the_directory_is_refused(tmp_path: Path) -> None:
    for name in ("../escape.txt", "/etc/passwd", ""):
        with pytest.raises(FamilyError, match="not a path inside"):
            write_files({name: "x"}, tmp_path)


def test_a_pack_without_family_py_has_one_static_instance(tmp_path: Path) -> None:
    root = tmp_path / "static-pack"
    shutil.copytree(BUILTIN_ROOT / "scaffold-debugging-stats", root)
    (root / "family.py").unlink()
    (root / "task.yaml").write_text(
        (root / "task.yaml").read_text().replace("id: scaffold-debugging-stats", "id: static-pack")
    )
    (root / "workspace" / "data").mkdir()
    (root / "workspace" / "data" / "measurements.jsonl").write_text('{"group": "a", "value": 1}\n')
    (root / "hidden").mkdir()
    (root / "hidden" / "expected.json").write_text('{"a": {"count": 1}}')
    pack = TaskCatalog([tmp_path]).get("static-pack")
    assert not pack.is_family
    pack.instance(5).write_workspace(tmp_path / "ws")
    pack.instance(5).write_hidden(tmp_path / "hidden")
    assert (tmp_path / "ws" / "data" / "measurements.jsonl").is_file()
    assert (tmp_path / "hidden" / "expected.json").read_text() == '{"a": {"count": 1}}'


def test_a_broken_generator_is_a_task_pack_error(tmp_path: Path) -> None:
    root = tmp_path / "broken"
    shutil.copytree(BUILTIN_ROOT / "reward-design-sorting", root)
    (root / "family.py").write_text("def generate(seed):\n    raise RuntimeError('no data')\n")
    pack = TaskCatalog([tmp_path]).get("reward-design-sorting")
    with pytest.raises(TaskPackError, match="seed 4: no data"):
        pack.instance(4).files()


def test_the_listing_says_which_tasks_are_families() -> None:
    assert all(task["family"] for task in json.loads(CATALOG.listing_json()))
