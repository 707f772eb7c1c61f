"""The model stage of judging: asks an `llm_judge` rule's model about one action, cached.

A model's answer is never a crash: a malformed one is asked again once (told what was
wrong), and an answer still unusable, or a backend that fails, keeps the action with a
reason naming the failure. Only usable answers are cached, so a later run asks again.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from apollo.v1 import events_pb2 as pb
from services.judge import metrics
from services.judge.llm_answer import (
    ANSWER_TOOL,
    JudgeAnswer,
    MalformedAnswer,
    canonical_answer,
    parse_answer,
)
from services.judge.llm_cache import JudgementKey, LlmJudgementCache
from services.judge.llm_prompt import JudgePrompt, judge_prompt
from services.judge.llm_rule import LlmJudge
from services.judge.rules import Reason, Verdict, short
from services.judge.steps import StepView
from services.llm.backend_pool import BackendPool, Lease
from services.llm.port import BackendError, ChatMessage, ModelReply, Prompt

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LlmJudgement:
    """What one `llm_judge` rule's model said about one action."""

    rule: LlmJudge
    # The model's verdict; `keep` when it gave no usable answer.
    verdict: Verdict
    # Given when the model says mask, or when it gave no usable answer (naming why).
    reason: Reason | None

    @property
    def masks(self) -> bool:
        """Whether this judgement masks the action: the model says mask under a mask rule."""
        return self.verdict is Verdict.MASK and self.rule.verdict is Verdict.MASK


def judge_model_spec(rule: LlmJudge) -> pb.ModelSpec:
    """The rule's judge model as ActionJudged.judge_model records it (spec and sampling)."""
    backend, _, model = rule.model.partition(":")
    spec = pb.ModelSpec(backend=backend, model=model)
    spec.sampling.temperature = 0.0
    spec.sampling.top_p = 1.0
    spec.sampling.max_tokens = rule.max_answer_tokens
    return spec


def judgement_key(asked: JudgePrompt, rule: LlmJudge) -> JudgementKey:
    """The cache key of asking `rule`'s model this prompt."""
    return JudgementKey(asked.prompt.digest, rule.model)


class LlmJudgeStage:
    """Asks judge models through the shared backend pool, and caches their answers."""

    def __init__(self, pool: BackendPool, cache: LlmJudgementCache) -> None:
        self._pool = pool
        self._cache = cache

    async def judge(self, view: StepView, position: int, rule: LlmJudge) -> LlmJudgement:
        """The model's judgement on the action at `position` (cached by prompt and model)."""
        asked = judge_prompt(view, position, rule)
        key = judgement_key(asked, rule)
        cached = await self._cache.get(key)
        metrics.LLM_CACHE.labels(rule.model, "miss" if cached is None else "hit").inc()
        if cached is not None:
            return _judgement(parse_answer(cached, len(rule.questions)), asked, rule)
        try:
            answer = await self._ask(asked.prompt, rule)
        except (BackendError, MalformedAnswer) as error:
            cause = "backend_error" if isinstance(error, BackendError) else "malformed_answer"
            metrics.LLM_UNJUDGED.labels(rule.model, cause).inc()
            log.warning("llm_judge_unjudged", model=rule.model, cause=cause, error=str(error))
            return _unjudged(asked, rule, f"{cause.replace('_', ' ')}: {error}")
        await self._cache.put(key, canonical_answer(answer))
        return _judgement(answer, asked, rule)

    async def _ask(self, prompt: Prompt, rule: LlmJudge) -> JudgeAnswer:
        """The model's answer, asked once more (told what was wrong) if malformed."""
        lease = self._pool.lease(rule.model)
        reply = await self._call(lease, prompt)
        try:
            return self._parsed(lease, reply, rule)
        except MalformedAnswer as error:
            retry = await self._call(lease, _retry_prompt(prompt, reply, error))
            return self._parsed(lease, retry, rule)

    async def _call(self, lease: Lease, prompt: Prompt) -> ModelReply:
        try:
            async with lease.slots:
                reply = await lease.backend.complete(prompt)
        except BackendError:
            metrics.LLM_CALLS.labels(lease.spec, "error").inc()
            raise
        for kind, tokens in reply.usage.by_kind().items():
            metrics.LLM_TOKENS.labels(lease.spec, kind).inc(tokens)
        return reply

    def _parsed(self, lease: Lease, reply: ModelReply, rule: LlmJudge) -> JudgeAnswer:
        try:
            answer = parse_answer(_answer_json(reply), len(rule.questions))
        except MalformedAnswer:
            metrics.LLM_CALLS.labels(lease.spec, "malformed").inc()
            raise
        metrics.LLM_CALLS.labels(lease.spec, "answered").inc()
        return answer


def _answer_json(reply: ModelReply) -> str:
    """The answer's JSON: the answer tool's arguments, or else the whole reply text."""
    calls = [call for call in reply.tool_calls if call.name == ANSWER_TOOL]
    if calls:
        return calls[0].arguments_json
    if reply.parse_failure is not None:
        raise MalformedAnswer(f"a broken call of {ANSWER_TOOL}: {reply.parse_failure.message}")
    return reply.text.strip()


def _retry_prompt(prompt: Prompt, reply: ModelReply, error: MalformedAnswer) -> Prompt:
    """The prompt, the malformed answer, and a user turn saying what was wrong with it."""
    correction = f"That answer is unusable ({error}). Call {ANSWER_TOOL} once, with the object."
    answered = ChatMessage("assistant", reply.text, reply.tool_calls)
    # A tool call must be answered by its result before the conversation goes on.
    turns = tuple(ChatMessage("tool", correction, tool_call_id=c.call_id) for c in reply.tool_calls)
    turns = turns or (ChatMessage("user", correction),)
    return Prompt((*prompt.messages, answered, *turns), prompt.tools, prompt.sampling)


def _judgement(answer: JudgeAnswer, asked: JudgePrompt, rule: LlmJudge) -> LlmJudgement:
    if answer.verdict is Verdict.KEEP:
        return LlmJudgement(rule, Verdict.KEEP, None)
    quotes = [reply.evidence for reply in answer.answers.values()]
    # The evidence steps are the judged one and those of the window a quote is copied from.
    quoted = {
        index
        for quote in quotes
        for index, text in asked.step_texts.items()
        if _flat(quote) and _flat(quote) in _flat(text)
    }
    answers = "; ".join(
        f"{key} {reply.answer}: {reply.evidence!r}" for key, reply in answer.answers.items()
    )
    detail = (
        f"{rule.model} says mask: {answer.reason} ({answers}; facts: {' / '.join(answer.facts)})"
    )
    steps = tuple(sorted(quoted | {asked.judged}))
    return LlmJudgement(
        rule, Verdict.MASK, Reason(rule.id, detail, steps, short(" | ".join(quotes)))
    )


def _unjudged(asked: JudgePrompt, rule: LlmJudge, problem: str) -> LlmJudgement:
    detail = f"no judgement from {rule.model}, kept: {problem}"
    return LlmJudgement(
        rule, Verdict.KEEP, Reason(rule.id, detail, (asked.judged,), short(problem))
    )


def _flat(text: str) -> str:
    return " ".join(text.split()).lower()
