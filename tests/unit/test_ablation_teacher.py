"""Which teacher an ablation collects with, how its plan records it, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from typer.testing import CliRunner

from services.cli.experiments.ablation_collect import collection_started
from services.cli.experiments.ablation_plan import SIZES, AblationPlan
from services.cli.experiments.ablation_store import (
    PLAN_FILE,
    ConflictingPlan,
    experiment_dir,
    resumed_or_new,
)
from services.cli.experiments.ablation_teacher import (
    SIMULATED_TEACHER,
    BadTeacherChoice,
    Teacher,
    chosen_teacher,
    parsed_teacher,
    unreachable_reason,
)
from services.cli.main import app
from services.tasks.teacher import RATE_LABEL, SEED_LABEL

FAMILY = "data-filtering-dedup"
MODEL_TEACHER = Teacher("anthropic:claude-teacher")
MODEL_SETTINGS = (
    "APOLLO_TEACHER",
    "ANTHROPIC_API_KEY",
    "APOLLO_ANTHROPIC_BASE_URL",
    "APOLLO_OPENAI_API_KEY",
    "OPENAI_API_KEY",
    "APOLLO_OPENAI_BASE_URL",
)


@pytest.fixture(autouse=True)
def no_model_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in MODEL_SETTINGS:
        monkeypatch.delenv(name, raising=False)


def plan(teacher: Teacher, experiment: str = "abl") -> AblationPlan:
    started_at = Timestamp(seconds=1_700_000_000)
    return AblationPlan(experiment, started_at, (FAMILY,), SIZES["small"], teacher)


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("simulated", "simulated"),
        ("teacher:simulated", "simulated"),
        ("anthropic:claude-teacher", "anthropic:claude-teacher"),
        (" openai:Qwen/Qwen3-8B ", "openai:Qwen/Qwen3-8B"),
    ],
)
def test_a_teacher_is_the_simulated_one_or_a_model_of_an_api_backend(text: str, spec: str) -> None:
    assert parsed_teacher(text).spec == spec


@pytest.mark.parametrize("text", ["local", "scripted:reference", "anthropic:", "openai", "gpt-x"])
def test_other_teachers_are_refused_with_the_choices(text: str) -> None:
    with pytest.raises(BadTeacherChoice, match="use simulated, anthropic:MODEL or openai:MODEL"):
        parsed_teacher(text)


def test_the_option_wins_over_the_setting_which_wins_over_the_simulated_teacher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert chosen_teacher(None) == SIMULATED_TEACHER
    # A key alone names no model: the teacher stays simulated.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "key")
    assert chosen_teacher(None) == SIMULATED_TEACHER
    monkeypatch.setenv("APOLLO_TEACHER", "anthropic:claude-teacher")
    assert chosen_teacher(None) == MODEL_TEACHER
    assert chosen_teacher("simulated") == SIMULATED_TEACHER
    monkeypatch.setenv("APOLLO_TEACHER", "")
    assert chosen_teacher(None) == SIMULATED_TEACHER


def test_a_model_teacher_needs_its_backends_key_or_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert unreachable_reason(MODEL_TEACHER) == (
        "the teacher anthropic:claude-teacher needs ANTHROPIC_API_KEY"
    )
    monkeypatch.setenv("ANTHROPIC_API_KEY", "key")
    assert unreachable_reason(MODEL_TEACHER) is None
    vllm = Teacher("openai:qwen")
    assert "needs APOLLO_OPENAI_BASE_URL or OPENAI_API_KEY" in unreachable_reason(vllm)
    monkeypatch.setenv("APOLLO_OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    assert unreachable_reason(vllm) is None
    monkeypatch.setenv("APOLLO_OPENAI_BASE_URL", "not-a-url")
    assert "APOLLO_OPENAI_BASE_URL" in unreachable_reason(vllm)


def test_a_model_teachers_runs_start_with_its_policy_and_no_teacher_labels() -> None:
    run = plan(MODEL_TEACHER).collection[0]
    started = collection_started(plan(MODEL_TEACHER), run).trajectory_started
    assert (started.policy.backend, started.policy.model) == ("anthropic", "claude-teacher")
    assert dict(started.labels) == {"experiment": "abl", "arm": str(run.arm)}
    simulated = collection_started(plan(SIMULATED_TEACHER), run).trajectory_started
    assert (simulated.policy.backend, simulated.policy.model) == ("teacher", "simulated")
    assert {SEED_LABEL, RATE_LABEL} <= set(simulated.labels)


def test_the_stored_plan_records_the_teacher_and_refuses_another(tmp_path: Path) -> None:
    resumed_or_new(tmp_path, plan(MODEL_TEACHER))
    stored = json.loads((experiment_dir(tmp_path, "abl") / PLAN_FILE).read_text())
    assert stored["teacher"] == "anthropic:claude-teacher"
    assert resumed_or_new(tmp_path, plan(MODEL_TEACHER)).teacher == MODEL_TEACHER
    with pytest.raises(ConflictingPlan, match=r"other settings \(teacher;"):
        resumed_or_new(tmp_path, plan(SIMULATED_TEACHER))


def test_a_plan_stored_before_teachers_were_chosen_resumes_as_the_simulated_ones(
    tmp_path: Path,
) -> None:
    resumed_or_new(tmp_path, plan(SIMULATED_TEACHER))
    path = experiment_dir(tmp_path, "abl") / PLAN_FILE
    stored = json.loads(path.read_text())
    del stored["teacher"]
    path.write_text(json.dumps(stored))
    assert resumed_or_new(tmp_path, plan(SIMULATED_TEACHER)).teacher == SIMULATED_TEACHER
    with pytest.raises(ConflictingPlan):
        resumed_or_new(tmp_path, plan(MODEL_TEACHER))


def ablation(tmp_path: Path, *options: str, **env: str):
    """`apollo experiment ablation` where no stack runs: it must stop before needing one."""
    env = {"APOLLO_HOME": str(tmp_path / "home"), "APOLLO_ARTIFACTS_DIR": str(tmp_path),
           "COLUMNS": "200", **env}  # fmt: skip
    args = ["experiment", "ablation", "--size", "small", "--name", "abl", *options]
    return CliRunner().invoke(app, args, env=env)


def test_the_command_refuses_a_bad_teacher_an_unreachable_one_and_a_changed_one(
    tmp_path: Path,
) -> None:
    bad = ablation(tmp_path, "--teacher", "local")
    assert bad.exit_code == 2
    assert "use simulated, anthropic:MODEL or openai:MODEL" in " ".join(bad.output.split())
    keyless = ablation(tmp_path, "--teacher", "anthropic:claude-teacher")
    assert keyless.exit_code == 2
    assert "needs ANTHROPIC_API_KEY" in " ".join(keyless.output.split())

    resumed_or_new(tmp_path, plan(SIMULATED_TEACHER))
    changed = ablation(tmp_path, "--teacher", "anthropic:claude-teacher", ANTHROPIC_API_KEY="k")
    assert changed.exit_code == 2
    assert "exists with other settings (teacher;" in " ".join(changed.output.split())
    from_setting = ablation(tmp_path, APOLLO_TEACHER="anthropic:claude-teacher",
                            ANTHROPIC_API_KEY="k")  # fmt: skip
    assert from_setting.exit_code == 2
    assert "(teacher;" in " ".join(from_setting.output.split())
