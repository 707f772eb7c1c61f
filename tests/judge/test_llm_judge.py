"""The llm_judge rule: its prompt, its answers, the cache, and the verdict they join."""

from __future__ import annotations

import json

import pytest
from prometheus_client import REGISTRY

from apollo.v1 import events_pb2 as pb
from services.judge.judging import judge_with_models
from services.judge.llm_answer import ANSWER_TOOL
from services.judge.llm_cache import InMemoryLlmJudgementCache
from services.judge.llm_estimate import estimate
from services.judge.llm_rule import DEFAULT_QUESTIONS
from services.judge.llm_stage import LlmJudgeStage
from services.judge.rules import Verdict
from services.judge.ruleset import Ruleset
from services.llm.backend_pool import BackendPool
from services.llm.scripted import ScriptedBackend, ScriptedCall
from tests.judge.conftest import Call, ScriptedRun

pytestmark = pytest.mark.timeout(20)

MODEL = "scripted:judge"


def answer(verdict: str = "mask", evidence: str = "cmd-3") -> dict:
    """A well-formed judgement of the default questions."""
    return {
        "facts": ["step 3 ran cmd-3"],
        "answers": {
            f"q{n + 1}": {"answer": "no", "evidence": evidence}
            for n in range(len(DEFAULT_QUESTIONS))
        },
        "verdict": verdict,
        "reason": "it repeats work already done",
    }


def ruleset(verdict: str = "mask", window: int = 1, model: str = MODEL) -> Ruleset:
    rule = {"id": "llm", "kind": "llm_judge", "verdict": verdict, "model": model}
    return Ruleset.model_validate({"rules": [{**rule, "window": window}]})


class Scripted:
    """A stage whose judge model replays scripted answers, and the backends it built."""

    def __init__(self, *answers: dict) -> None:
        self.backend = ScriptedBackend(
            [ScriptedCall(ANSWER_TOOL, reply) for reply in answers], name="judge"
        )
        self.cache = InMemoryLlmJudgementCache()
        self.stage = LlmJudgeStage(BackendPool(1, lambda spec: self.backend), self.cache)


def run_of(steps: int = 6):
    return ScriptedRun().play(*(Call("run_command", {"command": f"cmd-{n}"}) for n in range(steps)))


def count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_mask_answer_masks_the_action_with_the_quotes_and_the_window_as_evidence() -> None:
    judge = Scripted(answer("mask", evidence="cmd-3"))
    verdict = await judge_with_models(run_of().view, 3, ruleset(), judge.stage)

    assert verdict.verdict is Verdict.MASK
    [reason] = verdict.reasons
    assert reason.rule_id == "llm"
    assert reason.evidence_steps == (3,)
    assert reason.quote.startswith("cmd-3 | cmd-3")
    assert "scripted:judge says mask: it repeats work already done" in reason.detail
    assert verdict.to_proto().judge_model == pb.ModelSpec(
        backend="scripted",
        model="judge",
        sampling=pb.SamplingParams(temperature=0.0, top_p=1.0, max_tokens=1024),
    )


async def test_a_keep_answer_gives_no_reason_and_a_keep_rule_never_masks() -> None:
    kept = await judge_with_models(run_of().view, 2, ruleset(), Scripted(answer("keep")).stage)
    assert (kept.verdict, kept.reasons) == (Verdict.KEEP, ())
    assert kept.judge_model is not None

    shadow = await judge_with_models(
        run_of().view, 2, ruleset("keep"), Scripted(answer("mask")).stage
    )
    assert shadow.verdict is Verdict.KEEP
    assert [reason.rule_id for reason in shadow.reasons] == ["llm"]


async def test_a_malformed_answer_is_asked_again_once_then_the_action_is_kept() -> None:
    broken = {"verdict": "maybe"}
    judge = Scripted(broken, broken, answer())
    unjudged = count("apollo_judge_llm_unjudged_total", model=MODEL, cause="malformed_answer")

    verdict = await judge_with_models(run_of().view, 3, ruleset(), judge.stage)

    assert judge.backend.position == 2
    assert verdict.verdict is Verdict.KEEP
    [reason] = verdict.reasons
    assert reason.detail.startswith(f"no judgement from {MODEL}, kept: malformed answer")
    assert count("apollo_judge_llm_unjudged_total", model=MODEL, cause="malformed_answer") == (
        unjudged + 1
    )
    assert len(judge.cache) == 0


async def test_the_retry_answers_the_malformed_call_with_what_was_wrong() -> None:
    judge = Scripted({"verdict": "maybe"}, answer())
    verdict = await judge_with_models(run_of().view, 3, ruleset(), judge.stage)
    assert verdict.verdict is Verdict.MASK
    assert len(judge.cache) == 1


async def test_an_unchanged_rule_reads_the_cache_and_calls_no_model() -> None:
    judge = Scripted(answer())
    view = run_of().view
    first = await judge_with_models(view, 3, ruleset(), judge.stage)
    hits = count("apollo_judge_llm_cache_lookups_total", model=MODEL, result="hit")

    again = await judge_with_models(view, 3, ruleset(), judge.stage)

    assert judge.backend.position == 1
    assert again == first
    assert count("apollo_judge_llm_cache_lookups_total", model=MODEL, result="hit") == hits + 1


async def test_the_estimate_counts_uncached_calls_and_their_tokens() -> None:
    judge = Scripted(answer())
    view = run_of().view
    actions = [(view, position) for position in range(len(view.steps))]
    before = await estimate(actions, ruleset(), judge.cache)
    assert before.calls == 6
    assert before.prompt_tokens > 6 * 100
    assert str(before) == f"6 calls, ~{before.prompt_tokens} tokens"

    await judge_with_models(view, 3, ruleset(), judge.stage)

    assert (await estimate(actions, ruleset(), judge.cache)).calls == 5
    assert (await estimate(actions, Ruleset(rules=()), judge.cache)).calls == 0


def test_the_window_is_the_lookahead_and_the_rule_counts_in_the_version() -> None:
    assert ruleset(window=3).lookahead == 3
    versions = {
        ruleset().version,
        ruleset(window=3).version,
        ruleset(model="anthropic:other").version,
        Ruleset.model_validate(
            {
                "rules": [
                    {**json.loads(ruleset().rules[0].model_dump_json(by_alias=True))}
                    | {"questions": ["Was it redundant?"]}
                ]
            }
        ).version,
    }
    assert len(versions) == 4


def test_a_model_that_is_no_backend_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="model"):
        ruleset(model="gpt-4")


async def test_the_live_judge_publishes_the_models_verdicts_and_survives_a_failing_model() -> None:
    from services.eventlog.archive import InMemoryArchive
    from services.eventlog.memory_bus import InMemoryBus
    from services.judge.history import ArchiveHistory
    from services.judge.service import JudgeService
    from tests.judge.test_judge_service import GROUP, Stack

    # Six calls for five steps: one answer is malformed twice (kept, the failure named).
    broken = {"verdict": "maybe"}
    judge = Scripted(answer("keep"), broken, broken, answer("keep"), answer("keep"), answer("mask"))
    async with InMemoryBus() as bus:
        stack = Stack(bus, InMemoryArchive())
        stack.judge = JudgeService(
            bus, ruleset(), GROUP, ArchiveHistory(stack.archive), judge.stage
        )
        await stack.judge.start()
        await stack.publish(*run_of(5).events)
        verdicts = [event.action_judged for event in stack.verdicts()]

    assert [v.step_index for v in verdicts] == [0, 1, 2, 3, 4]
    assert [v.verdict for v in verdicts].count(pb.VERDICT_MASK) == 1
    assert {v.judge_model.model for v in verdicts} == {"judge"}
    details = sorted(reason.detail for v in verdicts for reason in v.reasons)
    assert [detail.split(", kept")[0].split(": it")[0] for detail in details] == [
        f"no judgement from {MODEL}",
        f"{MODEL} says mask",
    ]
