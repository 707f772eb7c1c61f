"""The judge model's answer: its JSON Schema, strict parsing, and the reason it gives."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.judge.rules import Verdict

# The one tool the judge prompt offers: its arguments are the answer.
ANSWER_TOOL = "record_judgement"
# Bounds keep the answer short; they also bound what the local model's grammar lets it write.
MAX_FACTS = 5
MAX_TEXT_CHARS = 160


class MalformedAnswer(ValueError):
    """A judge model's answer that is not the JSON object the schema asks for."""


class QuestionAnswer(BaseModel):
    """The answer to one question and the quote it rests on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    answer: Literal["yes", "no"]
    evidence: str = Field(max_length=MAX_TEXT_CHARS)


class JudgeAnswer(BaseModel):
    """What the judge model answered about one action."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    facts: tuple[str, ...] = Field(min_length=1, max_length=MAX_FACTS)
    answers: dict[str, QuestionAnswer]
    verdict: Verdict
    reason: str = Field(max_length=2 * MAX_TEXT_CHARS)


def question_key(number: int) -> str:
    """The answer's key of the question at 0-based `number`: "q1", "q2", …"""
    return f"q{number + 1}"


def _text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


def answer_schema(questions: int) -> dict[str, Any]:
    """The JSON Schema of an answer to `questions` questions (the answer tool's arguments)."""
    keys = [question_key(number) for number in range(questions)]
    answer = {
        "type": "object",
        "properties": {"answer": {"enum": ["yes", "no"]}, "evidence": _text(MAX_TEXT_CHARS)},
        "required": ["answer", "evidence"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "facts": {
                "type": "array",
                "items": _text(MAX_TEXT_CHARS),
                "minItems": 1,
                "maxItems": MAX_FACTS,
            },
            "answers": {
                "type": "object",
                "properties": {key: answer for key in keys},
                "required": keys,
                "additionalProperties": False,
            },
            "verdict": {"enum": [Verdict.KEEP.value, Verdict.MASK.value]},
            "reason": _text(2 * MAX_TEXT_CHARS),
        },
        "required": ["facts", "answers", "verdict", "reason"],
        "additionalProperties": False,
    }


def parse_answer(answer_json: str, questions: int) -> JudgeAnswer:
    """The answer in `answer_json`, which must be exactly the schema's object."""
    try:
        answer = JudgeAnswer.model_validate_json(answer_json)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'answer'}: {problem['msg']}"
            for problem in error.errors(include_url=False)[:3]
        )
        raise MalformedAnswer(f"not the judgement object: {problems}") from None
    expected = {question_key(number) for number in range(questions)}
    if set(answer.answers) != expected:
        raise MalformedAnswer(
            f"answers {sorted(answer.answers)} are not one per question {sorted(expected)}"
        )
    return answer


def canonical_answer(answer: JudgeAnswer) -> str:
    """The answer as compact JSON with sorted keys, as the cache keeps it."""
    return json.dumps(answer.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
