"""The small ablation's collection with a model teacher: a loopback Messages API answers the
stack's policy service, which runs both arms of every training instance with it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from rich.progress import Progress

from services.cli.connection import Connection, running_stack
from services.cli.experiments.ablation_collect import Collector
from services.cli.experiments.ablation_plan import ARM_LABEL, SIZES, AblationPlan, Arm
from services.cli.experiments.ablation_teacher import Teacher
from services.cli.gateway_commands import add_account
from services.cli.stack.home import ApolloHome
from services.gateway.users import Role
from services.tasks.teacher import SEED_LABEL
from services.trajectory import TrajectoryStatus
from tests.e2e.conftest import embedded_stack
from tests.llm.fake_anthropic import FakeAnthropic

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SERVICES = "recorder,sandbox,summarizer,policy,gateway"
MODEL = "claude-teacher"
LOOK, FINISH = ("list_files", {"path": "."}), ("finish", {"summary": "looked around"})


class LookingTeacher(FakeAnthropic):
    """A teacher model that lists the workspace, then finishes once it has seen the listing;
    asked for a summary (a prompt without tools), it writes one."""

    def build_reply(self, body: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
        if not body.get("tools"):
            return super().build_reply(body, {"text": "Listed the workspace."})
        seen = any(
            block["type"] == "tool_result"
            for message in body["messages"]
            for block in message["content"]
        )
        return super().build_reply(body, {"tool_use": [FINISH if seen else LOOK]})


def task_text(body: dict[str, Any]) -> str:
    """The text of a request's first user turn: the task message."""
    return body["messages"][0]["content"][0]["text"]


async def test_a_model_teacher_collects_both_arms_through_its_api(tmp_path: Path) -> None:
    api = await LookingTeacher().start()
    env = {"APOLLO_ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "test-key"}
    started_at = Timestamp()
    started_at.FromDatetime(datetime.now(UTC))
    plan = AblationPlan("taught", started_at, ("data-filtering-dedup",), SIZES["small"],
                        Teacher(f"anthropic:{MODEL}"))  # fmt: skip
    try:
        with embedded_stack(SERVICES, env) as home:
            stack = running_stack(ApolloHome(home))
            assert stack is not None
            assert stack.gateway_url
            token = await add_account(stack.postgres_dsn, None, Role.ANNOTATOR)
            connection = Connection(stack.broker_address, stack.postgres_dsn)
            collector = Collector(plan, connection, stack.gateway_url, token)
            with Progress(disable=True) as progress:
                collected = await collector.collect(progress)
    finally:
        await api.stop()

    assert [t.trajectory_id for t in collected] == [plan.trajectory_id(r) for r in plan.collection]
    arms = [t.started.trajectory_started.labels[ARM_LABEL] for t in collected]
    assert sorted(arms) == sorted([Arm.GUIDED, Arm.UNGUIDED] * len(plan.size.train_seeds))
    for trajectory in collected:
        started = trajectory.started.trajectory_started
        assert (started.policy.backend, started.policy.model) == ("anthropic", MODEL)
        assert SEED_LABEL not in started.labels
        assert trajectory.status is TrajectoryStatus.FINISHED
        # Each step is the model's answer, recorded as that model's.
        assert [step.tool_name for step in trajectory.steps] == [LOOK[0], FINISH[0]]
        models = {step.action.action_proposed.model.model for step in trajectory.steps}
        assert models == {MODEL}

    # The model was asked for every step of every run, each time with its task's prompt.
    proposals = [body for body in api.requests if body.get("tools")]
    assert len(proposals) == sum(len(t.steps) for t in collected)
    assert {body["model"] for body in api.requests} == {MODEL}
    tasks = {
        f"<task_description>\n{t.started.trajectory_started.task_description.strip()}\n"
        for t in collected
    }
    assert all(any(task_text(body).startswith(task) for task in tasks) for body in proposals)
