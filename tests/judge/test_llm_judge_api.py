"""The llm_judge rule against a loopback Messages API server: what the judge model is sent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from apollo.v1 import events_pb2 as pb
from services.judge.judging import judge_with_models
from services.judge.llm_answer import ANSWER_TOOL
from services.judge.llm_cache import InMemoryLlmJudgementCache
from services.judge.llm_stage import LlmJudgeStage
from services.judge.rules import Verdict
from services.judge.ruleset import Ruleset
from services.llm.backend_pool import BackendPool
from services.llm.backend_spec import backend_from_spec
from tests.judge.conftest import Call, ScriptedRun
from tests.judge.test_llm_judge import answer
from tests.llm.fake_anthropic import FakeAnthropic

pytestmark = pytest.mark.timeout(30)

POLICY = pb.ModelSpec(backend="anthropic", model="policy-model-under-test")
RULESET = Ruleset.model_validate(
    {
        "rules": [
            {"id": "failed-action", "kind": "failed_action", "verdict": "mask"},
            {
                "id": "llm",
                "kind": "llm_judge",
                "verdict": "mask",
                "model": "anthropic:judge-model",
                "window": 2,
            },
        ]
    }
)


@pytest.fixture
async def api() -> AsyncIterator[FakeAnthropic]:
    server = await FakeAnthropic().start()
    yield server
    await server.stop()


def stage_on(api: FakeAnthropic, cache: InMemoryLlmJudgementCache) -> LlmJudgeStage:
    def build(spec: str):
        return backend_from_spec(spec, api_key="test-key", base_url=api.base_url, max_retries=0)

    return LlmJudgeStage(BackendPool(2, build), cache)


def policy_run() -> ScriptedRun:
    """Eight steps by a named policy model; step n runs `cmd-n`."""
    run = ScriptedRun().play(
        *(Call("run_command", {"command": f"cmd-{n}"}, success=n != 5) for n in range(8))
    )
    for event in run.events:
        if event.HasField("trajectory_started"):
            event.trajectory_started.policy.CopyFrom(POLICY)
        if event.HasField("action_proposed"):
            event.action_proposed.model.CopyFrom(POLICY)
            event.action_proposed.assistant_text = (
                f"I will run cmd-{event.action_proposed.step_index}"
            )
    return run


async def test_the_judge_model_sees_the_window_only_at_temperature_0_without_the_policy(
    api: FakeAnthropic,
) -> None:
    api.queue_reply({"tool_use": [(ANSWER_TOOL, answer("mask", evidence="cmd-4"))]})
    run = policy_run()
    cache = InMemoryLlmJudgementCache()

    verdict = await judge_with_models(run.view, 4, RULESET, stage_on(api, cache))

    [sent] = api.requests
    text = json.dumps(sent)
    assert [n for n in range(8) if f"cmd-{n}" in text] == [2, 3, 4, 5, 6]
    assert POLICY.model not in text
    assert sent["temperature"] == 0.0
    assert sent["model"] == "judge-model"
    assert [tool["name"] for tool in sent["tools"]] == [ANSWER_TOOL]
    assert verdict.verdict is Verdict.MASK
    assert [reason.rule_id for reason in verdict.reasons] == ["llm"]
    assert verdict.reasons[0].evidence_steps == (4,)


async def test_a_rerun_with_the_same_cache_makes_no_model_call(api: FakeAnthropic) -> None:
    run = policy_run()
    cache = InMemoryLlmJudgementCache()
    for verdict in ("keep", "keep", "mask"):
        api.queue_reply({"tool_use": [(ANSWER_TOOL, answer(verdict))]})
    first = [await judge_with_models(run.view, p, RULESET, stage_on(api, cache)) for p in (3, 4, 5)]
    calls = len(api.requests)

    again = [await judge_with_models(run.view, p, RULESET, stage_on(api, cache)) for p in (3, 4, 5)]

    assert calls == 3
    assert len(api.requests) == calls
    assert again == first
    assert [v.verdict for v in first] == [Verdict.KEEP, Verdict.KEEP, Verdict.MASK]
    # Step 5 failed: the symbolic rule's reason comes first, the model's after it.
    assert [r.rule_id for r in first[2].reasons] == ["failed-action", "llm"]


async def test_a_failing_api_keeps_the_action_and_is_asked_again_next_time(
    api: FakeAnthropic,
) -> None:
    api.fail_next(400)
    cache = InMemoryLlmJudgementCache()
    run = policy_run()

    kept = await judge_with_models(run.view, 4, RULESET, stage_on(api, cache))

    assert kept.verdict is Verdict.KEEP
    assert kept.reasons[0].detail.startswith("no judgement from anthropic:judge-model, kept")
    api.queue_reply({"tool_use": [(ANSWER_TOOL, answer("mask"))]})
    masked = await judge_with_models(run.view, 4, RULESET, stage_on(api, cache))
    assert masked.verdict is Verdict.MASK


async def test_an_answer_in_text_is_parsed_strictly_and_a_broken_one_retried(
    api: FakeAnthropic,
) -> None:
    api.queue_reply({"text": "Sure! Here is my judgement: {"})
    api.queue_reply({"text": json.dumps(answer("mask"))})

    verdict = await judge_with_models(
        policy_run().view, 4, RULESET, stage_on(api, InMemoryLlmJudgementCache())
    )

    assert verdict.verdict is Verdict.MASK
    retry = api.requests[1]["messages"]
    assert retry[-2]["role"] == "assistant"
    assert "unusable" in retry[-1]["content"][0]["text"]
