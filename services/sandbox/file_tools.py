"""The file tools: open, create, edit by line range, search and list, inside the workspace."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from services.sandbox.workspace import Workspace

# Search and listing stop after this many hits so one call stays readable.
MAX_HITS = 200
# Files bigger than this are not searched (data dumps, checkpoints).
MAX_SEARCH_FILE_BYTES = 5 * 1024 * 1024


class FileToolError(ValueError):
    """A file tool call that cannot be done as asked."""


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise FileToolError(f"{path.name!r} is not a file (use list_files to see what exists)")
    return path.read_text(encoding="utf-8", errors="replace").split("\n")


def open_file(ws: Workspace, path: str, line: int, context: int) -> dict:
    """Lines around `line`, numbered."""
    lines = _read_lines(ws.resolve(path))
    line = min(max(line, 1), len(lines))
    first, last = max(1, line - context), min(len(lines), line + context)
    numbered = "\n".join(f"{n}: {lines[n - 1]}" for n in range(first, last + 1))
    return {
        "message": f"[{path}] lines {first}-{last} of {len(lines)}",
        "content": numbered,
        "total_lines": len(lines),
    }


def create_file(ws: Workspace, path: str, content: str) -> dict:
    """A new file; refuses to overwrite one."""
    target = ws.resolve(path)
    if target.exists():
        raise FileToolError(f"{path!r} already exists; use edit_file to change it")
    ws.write_text(target, content)
    return {"message": f"created {ws.agent_path(target)} ({len(content)} chars)"}


def edit_file(ws: Workspace, path: str, start: int, end: int, content: str) -> dict:
    """Replace lines start..end (1-based, inclusive); end = start - 1 inserts before start."""
    target = ws.resolve(path)
    lines = _read_lines(target)
    if not 1 <= start <= len(lines) + 1 or not start - 1 <= end <= len(lines):
        raise FileToolError(
            f"lines {start}-{end} are not in {path!r}, which has {len(lines)} lines "
            "(use end = start - 1 to insert)"
        )
    new = content.split("\n") if content else []
    lines[start - 1 : end] = new
    ws.write_text(target, "\n".join(lines))
    first = max(1, start - 3)
    last = min(len(lines), start + len(new) + 2)
    shown = "\n".join(f"{n}: {lines[n - 1]}" for n in range(first, last + 1))
    return {
        "message": f"replaced lines {start}-{end} of {path} with {len(new)} lines",
        "content": shown,
        "total_lines": len(lines),
    }


def _walk_files(ws: Workspace, directory: Path):
    for folder, subdirs, files in os.walk(directory):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(files):
            yield Path(folder) / name


def search_dir(ws: Workspace, term: str, directory: str) -> dict:
    """Files under `directory` containing `term`, with match counts."""
    counts: dict[str, int] = {}
    for path in _walk_files(ws, ws.resolve(directory)):
        if path.is_symlink() or path.stat().st_size > MAX_SEARCH_FILE_BYTES:
            continue
        hits = path.read_text(encoding="utf-8", errors="replace").count(term)
        if hits:
            counts[ws.agent_path(path)] = hits
        if len(counts) >= MAX_HITS:
            break
    listing = "\n".join(f"{name} ({n} matches)" for name, n in counts.items())
    return {
        "message": f"{len(counts)} files contain {term!r}",
        "content": listing,
        "matches": sum(counts.values()),
    }


def search_file(ws: Workspace, term: str, path: str) -> dict:
    """Numbered lines of one file containing `term`."""
    lines = _read_lines(ws.resolve(path))
    hits = [f"{n}: {text}" for n, text in enumerate(lines, 1) if term in text][:MAX_HITS]
    return {
        "message": f"{len(hits)} lines of {path} contain {term!r}",
        "content": "\n".join(hits),
        "matches": len(hits),
    }


def find_file(ws: Workspace, name: str, directory: str) -> dict:
    """Paths under `directory` whose file name matches the glob `name`."""
    found = [
        ws.agent_path(p)
        for p in _walk_files(ws, ws.resolve(directory))
        if fnmatch.fnmatch(p.name, name)
    ][:MAX_HITS]
    return {"message": f"{len(found)} files match {name!r}", "content": "\n".join(found)}


def list_files(ws: Workspace, path: str, depth: int) -> dict:
    """The tree under `path`, `depth` levels deep, directories marked with a slash."""
    top = ws.resolve(path)
    if not top.is_dir():
        raise FileToolError(f"{path!r} is not a directory")
    entries: list[str] = []
    for folder, subdirs, files in os.walk(top):
        level = len(Path(folder).relative_to(top).parts)
        subdirs.sort()
        if level + 1 >= depth:
            subdirs_now, subdirs[:] = list(subdirs), []
        else:
            subdirs_now = subdirs
        entries += [ws.agent_path(Path(folder) / d) + "/" for d in subdirs_now]
        entries += [ws.agent_path(Path(folder) / f) for f in sorted(files)]
        if len(entries) >= MAX_HITS:
            break
    entries = sorted(entries)[:MAX_HITS]
    return {"message": f"{len(entries)} entries under {path}", "content": "\n".join(entries)}
