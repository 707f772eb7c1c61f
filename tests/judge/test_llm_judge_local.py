"""The llm_judge rule once with the real local model: its answer is held to the schema."""

from __future__ import annotations

import pytest

from services.judge.judging import judge_with_models
from services.judge.llm_answer import parse_answer
from services.judge.llm_cache import InMemoryLlmJudgementCache
from services.judge.llm_prompt import judge_prompt
from services.judge.llm_stage import LlmJudgeStage, judgement_key
from services.judge.rules import Verdict
from services.judge.ruleset import Ruleset
from services.llm.backend_pool import BackendPool
from services.llm.local import LocalBackend
from services.llm.model_files import gguf_path, models_dir
from tests.judge.conftest import Call, ScriptedRun

QUESTIONS = ["Was the action redundant?", "Did the action cause an error?"]
RULESET = Ruleset.model_validate(
    {
        "rules": [
            {
                "id": "llm",
                "kind": "llm_judge",
                "verdict": "mask",
                "model": "local",
                "window": 1,
                "questions": QUESTIONS,
            }
        ]
    }
)


@pytest.mark.integration
@pytest.mark.timeout(300)
async def test_the_local_models_answer_is_schema_valid_json_and_yields_a_verdict() -> None:
    if not gguf_path().is_file():
        pytest.skip(
            f"the local model is not fetched into {models_dir()}: scripts/fetch-local-model"
        )
    backend = LocalBackend(max_new_tokens=RULESET.rules[0].max_answer_tokens)
    cache = InMemoryLlmJudgementCache()
    stage = LlmJudgeStage(BackendPool(1, lambda spec: backend), cache)
    run = ScriptedRun().play(
        Call("read_file", {"path": "train.py"}),
        Call("run_command", {"command": "python train.py"}, success=False, error="SyntaxError"),
        Call("run_command", {"command": "python train.py"}, success=False, error="SyntaxError"),
    )

    verdict = await judge_with_models(run.view, 1, RULESET, stage)

    rule = RULESET.rules[0]
    stored = await cache.get(judgement_key(judge_prompt(run.view, 1, rule), rule))
    assert stored is not None, "the model's answer was unusable"
    answer = parse_answer(stored, len(QUESTIONS))
    assert verdict.verdict is answer.verdict
    assert (verdict.verdict is Verdict.MASK) == bool(verdict.reasons)
