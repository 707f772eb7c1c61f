"""The TrajectoryStarted of a run on a task pack: what the CLI and the gateway publish."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event, new_event_id
from services.tasks.packs import TaskPack
from services.tasks.teacher import TEACHER_BACKEND, BadTeacher, TeacherConfig
from services.tasks.tool_args import tool_specs
from services.trajectory.canonical import canonical_json
from services.trajectory.prompt_layout import TEMPLATE_VERSION

BACKENDS = ("scripted", "teacher", "local", "anthropic", "openai")
POLICY_SPECS = (
    "scripted:reference, teacher:simulated, local, local:CHECKPOINT_DIR, anthropic:MODEL "
    "or openai:MODEL"
)
DEFAULT_SUMMARY_THRESHOLD = 100_000
CONTEXT_WINDOW_TOKENS = 128_000


class BadPolicy(ValueError):
    """A policy spec that names no known backend, no model, or no known script."""


def _model_spec(policy: str) -> pb.ModelSpec:
    backend, _, model = policy.partition(":")
    if backend not in BACKENDS or (backend in ("anthropic", "openai") and not model):
        raise BadPolicy(f"{policy!r}: use {POLICY_SPECS}")
    if backend == "scripted" and model != "reference":
        raise BadPolicy("the only script is scripted:reference")
    if backend == "teacher" and model != "simulated":
        raise BadPolicy("the only teacher without a model is teacher:simulated")
    return pb.ModelSpec(
        backend=backend,
        model=model,
        sampling=pb.SamplingParams(temperature=1.0, top_p=1.0, max_tokens=8192),
    )


def _check_teacher(labels: Mapping[str, str]) -> None:
    try:
        TeacherConfig.from_labels(labels)
    except BadTeacher as error:
        raise BadPolicy(str(error)) from error


def _budgets(pack: TaskPack, overrides: pb.Budgets | None) -> pb.Budgets:
    own = pack.manifest.budgets
    if overrides is None:
        overrides = pb.Budgets()
    return pb.Budgets(
        max_steps=overrides.max_steps or own.steps,
        max_seconds=overrides.max_seconds or int(own.hours * 3600),
        max_evals=overrides.max_evals or own.evals,
    )


def scripted_calls(script: Sequence[tuple[str, dict]]) -> list[pb.ScriptedCall]:
    """A script of (tool, arguments) calls as TrajectoryStarted.scripted_calls."""
    return [
        pb.ScriptedCall(name=tool, arguments_json=canonical_json(arguments))
        for tool, arguments in script
    ]


def started_event(
    pack: TaskPack,
    policy: str,
    *,
    started_by: str,
    service: str,
    budgets: pb.Budgets | None = None,
    summary_threshold: int = DEFAULT_SUMMARY_THRESHOLD,
    labels: Mapping[str, str] | None = None,
    script: Sequence[tuple[str, dict]] | None = None,
    seed: int = 0,
) -> pb.Event:
    """A new trajectory's TrajectoryStarted: task, tools and budgets from the pack.

    `budgets` overrides the pack's; a zero field keeps the pack's own. A scripted policy
    carries `script`, (tool, arguments) calls, in `scripted_calls`; without one, the pack's
    reference solution, which the simulated teacher follows too (its mistakes are drawn
    from its `labels`, see services/tasks/teacher.py). `seed` names the task family's
    instance. Raises `BadPolicy`.
    """
    body = pb.TrajectoryStarted(
        task_id=pack.id,
        task_title=pack.manifest.title,
        task_description=pack.description,
        tools=tool_specs(pack.manifest.tools),
        budgets=_budgets(pack, budgets),
        policy=_model_spec(policy),
        summary_threshold_tokens=summary_threshold,
        context_window_tokens=CONTEXT_WINDOW_TOKENS,
        started_by=started_by,
        labels=labels or {},
        prompt_template_version=TEMPLATE_VERSION,
        task_seed=seed,
    )
    if body.policy.backend == TEACHER_BACKEND:
        _check_teacher(body.labels)
    if body.policy.backend in ("scripted", TEACHER_BACKEND):
        if script is None:
            script = [(step.tool, dict(step.arguments)) for step in pack.reference()]
        body.scripted_calls.extend(scripted_calls(script))
    return new_event(body, trajectory_id=new_event_id(), service=service)
