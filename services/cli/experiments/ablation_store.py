"""Where an ablation keeps its plan, so a rerun after a kill continues the same experiment."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp

from services.cli.experiments.ablation_plan import AblationPlan
from services.cli.experiments.ablation_teacher import SIMULATED_TEACHER

EXPERIMENTS_SUBDIR = "experiments"
PLAN_FILE = "plan.json"


class ConflictingPlan(ValueError):
    """An experiment of this name exists with other settings."""


def experiment_dir(artifacts_root: Path, experiment: str) -> Path:
    """`<artifacts>/experiments/<name>`: its plan and its report."""
    return artifacts_root / EXPERIMENTS_SUBDIR / experiment


def _as_json(plan: AblationPlan) -> dict:
    return {
        "experiment": plan.experiment,
        "started_at": plan.started_at.ToJsonString(),
        "families": list(plan.families),
        "size": dataclasses.asdict(plan.size),
        "teacher": plan.teacher.spec,
    }


def _upcast(stored: dict) -> dict:
    """A stored plan in today's shape: plans from before the teacher was a setting were the
    simulated teacher's."""
    return {"teacher": SIMULATED_TEACHER.spec, **stored}


def _comparable(data: dict) -> dict:
    """The settings part of a stored plan (lists as lists, whatever JSON made of tuples)."""
    return json.loads(json.dumps({k: v for k, v in data.items() if k != "started_at"}))


def resumed_or_new(artifacts_root: Path, plan: AblationPlan) -> AblationPlan:
    """The stored plan of the same experiment (its start time, so its ids) or `plan`, stored.

    Raises `ConflictingPlan` when the stored one has other settings: its runs would not be
    the ones asked for.
    """
    path = experiment_dir(artifacts_root, plan.experiment) / PLAN_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_as_json(plan), indent=2) + "\n")
        return plan
    stored = _upcast(json.loads(path.read_text()))
    kept, asked = _comparable(stored), _comparable(_as_json(plan))
    differing = sorted(key for key in kept.keys() | asked.keys() if kept.get(key) != asked.get(key))
    if differing:
        raise ConflictingPlan(
            f"experiment {plan.experiment!r} exists with other settings ({', '.join(differing)}; "
            f"{path}); rerun it with the same options, or give another --name"
        )
    started_at = Timestamp()
    started_at.FromJsonString(stored["started_at"])
    return dataclasses.replace(plan, started_at=started_at)
