"""The file tools, confined to the workspace (no sandbox needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.sandbox import file_tools as f
from services.sandbox.workspace import PathOutsideWorkspace, Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    (tmp_path / "w").mkdir()
    return Workspace(tmp_path / "w")


def test_create_open_edit_round_trip(ws: Workspace) -> None:
    f.create_file(ws, "a/b.py", "one\ntwo\nthree")
    assert "2: two" in f.open_file(ws, "/workspace/a/b.py", 2, 1)["content"]
    f.edit_file(ws, "a/b.py", 2, 2, "TWO\nTWO-B")
    assert (ws.root / "a/b.py").read_text() == "one\nTWO\nTWO-B\nthree"
    f.edit_file(ws, "a/b.py", 1, 0, "zero")  # end = start - 1 inserts
    assert (ws.root / "a/b.py").read_text().startswith("zero\none")


def test_create_refuses_to_overwrite_and_edit_checks_range(ws: Workspace) -> None:
    f.create_file(ws, "x.txt", "a")
    with pytest.raises(f.FileToolError, match="already exists"):
        f.create_file(ws, "x.txt", "b")
    with pytest.raises(f.FileToolError, match="not in"):
        f.edit_file(ws, "x.txt", 5, 6, "z")


@pytest.mark.parametrize("path", ["../outside", "/etc/passwd", "a/../../x", "/workspace/../etc"])
def test_paths_outside_the_workspace_are_rejected(ws: Workspace, path: str) -> None:
    with pytest.raises(PathOutsideWorkspace):
        ws.resolve(path)


def test_a_symlink_out_of_the_workspace_is_not_followed(ws: Workspace) -> None:
    (ws.root / "link").symlink_to("/etc")
    with pytest.raises(PathOutsideWorkspace):
        f.open_file(ws, "link/hostname", 1, 5)


def test_search_and_list(ws: Workspace) -> None:
    f.create_file(ws, "src/m.py", "def loss():\n    return 1\n")
    f.create_file(ws, "README.md", "loss design")
    assert f.search_dir(ws, "loss", ".")["matches"] == 2
    assert f.search_file(ws, "return", "src/m.py")["content"] == "2:     return 1"
    assert f.find_file(ws, "*.py", ".")["content"] == "src/m.py"
    assert "src/" in f.list_files(ws, ".", 2)["content"].split("\n")
