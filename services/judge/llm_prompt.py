"""The judge model's prompt: a window of steps around the action, facts first, then a verdict.

The prompt is built from the judge's step view only: no system prompt, task or `ModelSpec`
of the trajectory reaches it, so the judge never learns which policy model acted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from services.judge.llm_answer import ANSWER_TOOL, answer_schema, question_key
from services.judge.llm_rule import LlmJudge
from services.judge.steps import JudgedStep, StepView
from services.trajectory.prompt_model import ChatMessage, Prompt, SamplingParams, ToolDefinition

# Enough of each part for a judge to follow the action; long outputs are cut in the middle.
MAX_CALL_CHARS = 400
MAX_THOUGHT_CHARS = 300
MAX_OBSERVATION_CHARS = 600
MAX_GUIDANCE_CHARS = 400

SYSTEM = """You review one action of an AI agent working on a long task, for training data.
You see a window of the agent's steps around the action. First list the facts the window
shows about the action, then answer each question yes or no, each with a short quote copied
exactly from the window as its evidence, then give the verdict: "mask" if the action is
sub-optimal and should not be learned from, else "keep", with a one-sentence reason.
Answer only by calling the tool {tool} with this JSON object; write nothing else."""


@dataclass(frozen=True, slots=True)
class JudgePrompt:
    """The prompt about one action, and what of the trajectory it shows."""

    prompt: Prompt
    # The step index of the action judged.
    judged: int
    # Indices of the steps in the window, oldest first.
    window: tuple[int, ...]
    # The rendered text of each step of the window, by index, to find where a quote comes from.
    step_texts: dict[int, str]


def judge_prompt(view: StepView, position: int, rule: LlmJudge) -> JudgePrompt:
    """The prompt asking `rule`'s questions about the action at `position`."""
    first = max(0, position - rule.window_steps)
    shown = view.steps[first : position + rule.window_steps + 1]
    judged = view.steps[position].index
    step_texts = {step.index: render_step(step, step.index == judged) for step in shown}
    questions = "\n".join(
        f"{question_key(number)}: {question}" for number, question in enumerate(rule.questions)
    )
    user = (
        f"The steps {shown[0].index}..{shown[-1].index} of the trajectory:\n\n"
        + "\n\n".join(step_texts.values())
        + f"\n\nThe action to judge is step {judged}. The questions:\n{questions}"
    )
    tool = ToolDefinition(
        name=ANSWER_TOOL,
        description="Record the facts, the answers with their evidence, and the verdict",
        parameters_json_schema=json.dumps(answer_schema(len(rule.questions))),
    )
    prompt = Prompt(
        messages=(
            ChatMessage("system", SYSTEM.format(tool=ANSWER_TOOL)),
            ChatMessage("user", user),
        ),
        tools=(tool,),
        sampling=SamplingParams(temperature=0.0, max_tokens=rule.max_answer_tokens),
    )
    return JudgePrompt(prompt, judged, tuple(step_texts), step_texts)


def render_step(step: JudgedStep, judged: bool) -> str:
    """One step as the judge reads it: the call, the agent's thought, the observation, and
    the human's messages after it."""
    marker = "  <- the action to judge" if judged else ""
    if step.arguments is None:
        call = f"no valid tool call ({step.parse_error or 'arguments are not a JSON object'})"
    else:
        call = f"{step.tool} {json.dumps(dict(step.arguments), sort_keys=True)}"
    lines = [f"[step {step.index}]{marker}", f"call: {cut(call, MAX_CALL_CHARS)}"]
    if step.assistant_text.strip():
        lines.append(f"thought: {cut(step.assistant_text, MAX_THOUGHT_CHARS)}")
    lines.append(f"observation: {_observation_text(step)}")
    lines += [
        f"human ({'correction' if guidance.is_correction else 'guidance'}): "
        f"{cut(guidance.text, MAX_GUIDANCE_CHARS)}"
        for guidance in step.guidance_after
        if guidance.text
    ]
    return "\n".join(lines)


def _observation_text(step: JudgedStep) -> str:
    observation = step.observation
    if observation is None:
        return "none recorded"
    status = "success" if observation.success else "failed"
    parts = [observation.error_message, observation.message, observation.content]
    text = " | ".join(part for part in parts if part.strip())
    if observation.eval_score is not None:
        text = f"score {observation.eval_score}; {text}"
    return f"{status}: {cut(text, MAX_OBSERVATION_CHARS)}" if text else status


def cut(text: str, limit: int) -> str:
    """`text` with its whitespace runs collapsed, its middle cut out past `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    # The head says what was done, the tail how it ended.
    half = (limit - 5) // 2
    return f"{flat[:half]} […] {flat[-half:]}"
