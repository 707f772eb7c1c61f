"""The start event of a run on a task pack, as the CLI and the gateway build it."""

from __future__ import annotations

import pytest

from apollo.v1 import events_pb2 as pb
from services.policy.scripts import script_of
from services.tasks.packs import TaskCatalog
from services.tasks.starting import BadPolicy, started_event
from services.tasks.tool_args import tool_specs
from services.trajectory.prompt_layout import TEMPLATE_VERSION

PACK = TaskCatalog().get("data-filtering-dedup")


def test_the_pack_gives_task_budgets_and_tools_and_the_caller_who_started_it() -> None:
    event = started_event(PACK, "openai:gpt-x", started_by="cli", service="cli")
    started = event.trajectory_started
    own = PACK.manifest.budgets
    assert event.source.service == "cli"
    assert started.started_by == "cli"
    assert started.budgets == pb.Budgets(
        max_steps=own.steps, max_seconds=int(own.hours * 3600), max_evals=own.evals
    )
    assert list(started.tools) == tool_specs(PACK.manifest.tools)
    assert (started.policy.backend, started.policy.model) == ("openai", "gpt-x")
    assert started.prompt_template_version == TEMPLATE_VERSION
    assert dict(started.labels) == {}


def test_overrides_replace_only_their_nonzero_fields_and_labels_travel() -> None:
    event = started_event(
        PACK,
        "local",
        started_by="ada",
        service="gateway",
        budgets=pb.Budgets(max_seconds=60),
        summary_threshold=1500,
        labels={"experiment": "ablation"},
    )
    started = event.trajectory_started
    assert started.budgets == pb.Budgets(
        max_steps=PACK.manifest.budgets.steps,
        max_seconds=60,
        max_evals=PACK.manifest.budgets.evals,
    )
    assert started.summary_threshold_tokens == 1500
    assert dict(started.labels) == {"experiment": "ablation"}


def test_scripted_reference_carries_the_reference_solution_for_the_policy() -> None:
    event = started_event(PACK, "scripted:reference", started_by="cli", service="cli")
    script = [(call.name, call.arguments) for call in script_of(event.trajectory_started)]
    assert script == [(step.tool, step.arguments) for step in PACK.reference()]


def test_a_given_script_replaces_the_reference_solution() -> None:
    calls = [("sleep", {"seconds": 5}), ("finish", {})]
    event = started_event(PACK, "scripted:reference", started_by="t", service="t", script=calls)
    script = [(call.name, call.arguments) for call in script_of(event.trajectory_started)]
    assert script == calls


@pytest.mark.parametrize(
    "policy", ["", "gpt", "anthropic", "openai:", "scripted", "scripted:mine", "LOCAL"]
)
def test_a_policy_no_backend_answers_to_is_bad(policy: str) -> None:
    with pytest.raises(BadPolicy):
        started_event(PACK, policy, started_by="cli", service="cli")


def test_the_start_names_the_instance_and_a_missing_seed_means_the_default_one() -> None:
    assert (
        started_event(PACK, "local", started_by="cli", service="cli").trajectory_started.task_seed
        == 0
    )
    seeded = started_event(PACK, "local", started_by="cli", service="cli", seed=1003)
    assert seeded.trajectory_started.task_seed == 1003
