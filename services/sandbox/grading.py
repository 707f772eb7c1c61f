"""Hidden grading: the task's grader runs outside the sandbox, on a copy of the outputs."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from services.tasks.packs import TaskInstance, TaskPackError

# Copying stops at this size so a workspace filled with junk cannot stall grading.
MAX_COPY_BYTES = 512 * 1024 * 1024


class GradingFailed(RuntimeError):
    """The grader crashed, timed out or printed no score."""


@dataclass(frozen=True)
class Grade:
    """A score in 0-100 and the grader's details."""

    score: float
    details: dict


def _copy_outputs(workspace: Path, into: Path) -> None:
    copied = 0
    for folder, subdirs, files in os.walk(workspace):
        target = into / Path(folder).relative_to(workspace)
        target.mkdir(exist_ok=True)
        subdirs[:] = [d for d in subdirs if not os.path.islink(os.path.join(folder, d))]
        for name in files:
            source = Path(folder) / name
            # Symlinks are skipped: the agent could point one at a host file.
            if source.is_symlink() or not source.is_file():
                continue
            copied += source.stat().st_size
            if copied > MAX_COPY_BYTES:
                return
            shutil.copyfile(source, target / name)


async def grade(instance: TaskInstance, workspace: Path) -> Grade:
    """Score the current workspace with the pack's hidden grader and the instance's labels."""
    pack = instance.pack
    with tempfile.TemporaryDirectory(prefix="apollo-grade-") as scratch:
        copy = Path(scratch) / "outputs"
        hidden = Path(scratch) / "hidden"
        await asyncio.to_thread(_copy_outputs, workspace, copy)
        try:
            await asyncio.to_thread(instance.write_hidden, hidden)
        except TaskPackError as error:
            raise GradingFailed(str(error)) from error
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(pack.grader),
            str(copy),
            str(hidden),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={"PATH": os.defpath},
            cwd=scratch,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), pack.manifest.grader_timeout_s)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise GradingFailed(f"grader of {pack.id} ran over its time limit") from None
    if process.returncode != 0:
        raise GradingFailed(f"grader of {pack.id} failed: {err.decode()[-2000:]}")
    try:
        result = json.loads(out.decode().strip().splitlines()[-1])
        return Grade(max(0.0, min(100.0, float(result["score"]))), result)
    except (IndexError, KeyError, TypeError, ValueError) as error:
        raise GradingFailed(f"grader of {pack.id} printed no score: {error}") from error
