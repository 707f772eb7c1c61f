"""A trajectory for the dataset tests: guidance, two summaries and masked actions, judged."""

from __future__ import annotations

from dataclasses import dataclass, field

from log_book import LogBook
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event
from services.eventlog.topics import topic_for
from services.trajectory import fold
from services.trajectory.summary_prompt import render_summary_prompt

RULESET = "sha256:test-ruleset"
MASK_RULE = "repeated-command"
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class SummarizingLogBook(LogBook):
    """A LogBook whose summaries record the digest of their real summary prompt."""

    def summarize(self, first: int, last: int, text: str = "<state_snapshot/>") -> pb.Event:
        state = fold(self.events)
        previous = state.latest_summary.event_id if state.latest_summary else ""
        request = pb.SummaryRequested(
            step_index=last + 1,
            first_step_index=first,
            last_step_index=last,
            previous_summary_id=previous,
        )
        requested = self.add(request, service="policy")
        digest = render_summary_prompt(fold(self.events), request).digest
        body = pb.ContextSummarized(
            request_id=requested.event_id,
            summary=text,
            first_step_index=first,
            last_step_index=last,
            action_count=last + 1,
            prompt_digest=digest,
        )
        return self.add(body, service="summarizer")


@dataclass
class JudgedLog:
    """The log, the actions, and the verdicts on them under RULESET."""

    book: SummarizingLogBook
    actions: list[pb.Event]
    masked_steps: set[int]
    verdicts: list[pb.Event] = field(default_factory=list)

    def judge(self, ruleset: str = RULESET) -> None:
        """One ActionJudged per action: mask on `masked_steps`, keep elsewhere."""
        for action in self.actions:
            step = action.action_proposed.step_index
            masked = step in self.masked_steps
            body = pb.ActionJudged(
                action_id=action.event_id,
                step_index=step,
                ruleset_version=ruleset,
                verdict=pb.VERDICT_MASK if masked else pb.VERDICT_KEEP,
                reasons=[pb.JudgeReason(rule_id=MASK_RULE, detail="again")] if masked else [],
            )
            self.verdicts.append(
                new_event(body, trajectory_id=self.book.trajectory_id, service="judge")
            )

    def archived(self) -> list[tuple[str, pb.Event]]:
        """Every event with its topic, as the recorder archives them."""
        return [(topic_for(event).name, event) for event in [*self.book.events, *self.verdicts]]


def judged_log(last_command: str = "ls -la") -> JudgedLog:
    """Steps 0-2, summary of 0-1, steps 3-4 with guidance, summary of 0-3, steps 5-6.

    Steps 2, 4 and 6 are masked; 6 is the last turn of the last window, and its command is
    `last_command`, so a test can change the text of a masked turn alone.
    """
    book = SummarizingLogBook()
    book.start()
    actions = [book.step(arguments={"command": f"echo step {i}"}) for i in range(3)]
    book.summarize(0, 1, "<state_snapshot>ran echo twice</state_snapshot>")
    book.guidance("Check the tests before editing anything.")
    actions.append(book.step(arguments={"command": "pytest -q"}))
    actions.append(book.step(arguments={"command": "pytest -q"}))
    book.summarize(0, 3, "<state_snapshot>tests checked</state_snapshot>")
    actions.append(book.step("eval", {}))
    book.guidance("Good. Now finish.")
    actions.append(book.step(arguments={"command": last_command}))
    log = JudgedLog(book, actions, masked_steps={2, 4, 6})
    log.judge()
    return log


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """Byte-level BPE (every text round-trips) with ChatML's special tokens, trained here."""
    model = Tokenizer(models.BPE())
    model.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    model.decoder = decoders.ByteLevel()
    model.post_processor = processors.ByteLevel(trim_offsets=False)
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    texts = [str(event) for event in judged_log().book.events]
    model.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=model,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
    )
    tokenizer.chat_template = CHATML
    return tokenizer
