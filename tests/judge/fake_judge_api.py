"""A loopback Messages API whose judge models each mask a fixed set of steps, in any order."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from services.judge.llm_answer import ANSWER_TOOL
from tests.judge.test_llm_judge import answer
from tests.llm.fake_anthropic import FakeAnthropic

_JUDGED = re.compile(r"The action to judge is step (\d+)\.")


class StepMaskingJudges(FakeAnthropic):
    """Answers each judge prompt by its model and judged step, not by queue order, so
    concurrent calls get the same answers however they interleave."""

    def __init__(self, masked_steps: Mapping[str, set[int]]) -> None:
        super().__init__()
        # Per model name (as sent), the step indices it says mask.
        self.masked_steps = masked_steps

    def build_reply(self, body: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
        step = int(_JUDGED.search(body["messages"][-1]["content"][0]["text"]).group(1))
        verdict = "mask" if step in self.masked_steps.get(body["model"], set()) else "keep"
        scripted = {"tool_use": [(ANSWER_TOOL, answer(verdict, evidence=f"cmd-{step}"))]}
        return super().build_reply(body, scripted)

    def calls_to(self, model: str) -> int:
        """How many requests asked `model`."""
        return sum(1 for body in self.requests if body["model"] == model)
