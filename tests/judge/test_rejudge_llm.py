"""Re-judging under llm_judge rules: through the live judge's stage, its cache and a call budget."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InMemoryArchive
from services.eventlog.topics import VERDICTS
from services.judge.llm_cache import InMemoryLlmJudgementCache
from services.judge.rejudge import JudgeModels, Rejudging, Selection
from services.judge.ruleset import Ruleset
from services.llm.backend_pool import BackendPool
from services.llm.backend_spec import backend_from_spec
from tests.judge.conftest import Call
from tests.judge.fake_judge_api import StepMaskingJudges
from tests.judge.test_rejudge import RecordingPublisher, archived

pytestmark = pytest.mark.timeout(30)


def steps(run: int) -> tuple[Call, ...]:
    """Four commands; runs differ, so no two prompts are the same (the cache would answer)."""
    return tuple(Call("run_command", {"command": f"cmd-{n} of run {run}"}) for n in range(4))


LLM = Ruleset.model_validate(
    {
        "rules": [
            {"id": "failed", "kind": "failed_action", "verdict": "mask"},
            {"id": "llm", "kind": "llm_judge", "verdict": "mask", "model": "anthropic:judge-a"},
        ]
    }
)


@pytest.fixture
async def api() -> AsyncIterator[StepMaskingJudges]:
    server = await StepMaskingJudges({"judge-a": {1}}).start()
    yield server
    await server.stop()


def models_on(api: StepMaskingJudges) -> JudgeModels:
    def build(spec: str):
        return backend_from_spec(spec, api_key="test-key", base_url=api.base_url, max_retries=0)

    return JudgeModels(BackendPool(2, build), InMemoryLlmJudgementCache())


async def test_the_models_judge_once_and_a_rerun_asks_none(api: StepMaskingJudges) -> None:
    archive = InMemoryArchive()
    for run in range(2):
        await archived(archive, *steps(run))
    rejudging = Rejudging(archive, LLM, Selection(), models=models_on(api))
    ids = await rejudging.trajectory_ids()
    publisher = RecordingPublisher()

    plan = await rejudging.plan(ids)
    first = await rejudging.run(ids, publisher=publisher)
    replan = await rejudging.plan(ids)
    again = await rejudging.run(ids)

    assert (plan.model_calls, plan.prompt_tokens > 0, plan.judged) == (8, True, 0)
    assert (first.judged, first.recorded, first.model_calls) == (8, 8, 8)
    assert len(api.requests) == 8
    assert (replan.model_calls, again.judged, again.recorded, again.model_calls) == (0, 0, 0, 0)
    verdicts = [event.action_judged for event in publisher.published]
    assert [v.verdict for v in verdicts[:4]] == [pb.VERDICT_KEEP, pb.VERDICT_MASK] + [
        pb.VERDICT_KEEP
    ] * 2
    assert {(v.judge_model.backend, v.judge_model.model) for v in verdicts} == {
        ("anthropic", "judge-a")
    }
    assert [r.rule_id for r in verdicts[1].reasons] == ["llm"]


async def test_the_call_budget_stops_mid_trajectory_and_reruns_finish(
    api: StepMaskingJudges,
) -> None:
    archive = InMemoryArchive()
    for run in range(2):
        await archived(archive, *steps(run))
    rejudging = Rejudging(archive, LLM, Selection(), batch=1, models=models_on(api))
    ids = await rejudging.trajectory_ids()

    runs = [await rejudging.run(ids, max_calls=3) for _ in range(3)]

    assert [(t.judged, t.model_calls, t.budget_reached) for t in runs] == [
        (3, 3, True),
        (3, 3, True),
        (2, 2, False),
    ]
    assert len(api.requests) == 8
    rows = await archive.verdicts(LLM.version)
    assert len(rows) == len({row.action_id for row in rows}) == 8
    assert len([r async for r in archive.iter_all() if r.topic == VERDICTS.name]) == 8


async def test_an_action_budget_bounds_the_model_calls_too(api: StepMaskingJudges) -> None:
    archive = InMemoryArchive()
    await archived(archive, *steps(0))
    rejudging = Rejudging(archive, LLM, Selection(), models=models_on(api))

    tally = await rejudging.run(await rejudging.trajectory_ids(), budget=2)

    assert (tally.judged, tally.model_calls, tally.budget_reached) == (2, 2, True)
    assert len(api.requests) == 2
