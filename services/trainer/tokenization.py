"""Samples as the local model reads them: the chat template's text, its tokens, their labels.

The text is the local backend's: `render_text_conversation` (tools in the system prompt,
calls as Hermes-style text) through the tokenizer's chat template. A trained assistant
turn's loss covers its text and the end-of-turn token that stops generation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.llm.model_files import converted_cache_dir, models_dir
from services.llm.text_tools import render_text_conversation
from services.trainer.samples import Sample

# The label of a token that adds no loss (what transformers' losses ignore).
IGNORE_INDEX = -100
LOCAL_TOKENIZER = "local"


class TokenizerMismatch(ValueError):
    """A tokenizer other than the one a dataset was built with."""


class TemplateMismatch(ValueError):
    """The chat template does not show a window's prompts as prefixes of its text."""


@dataclass(frozen=True, slots=True)
class TokenizedSample:
    """A sample's text, its tokens, the labels of those tokens and its trained spans."""

    text: str
    input_ids: list[int]
    labels: list[int]
    # Character spans [start, end) of the trained assistant turns in `text`.
    trained_spans: list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class TokenizerIdentity:
    """Which tokenizer made a dataset's tokens: its name and a digest of vocabulary and template."""

    name: str
    digest: str

    def as_json(self) -> dict:
        """A JSON-ready dict."""
        return {"name": self.name, "digest": self.digest}


class SampleTokenizer:
    """Renders and tokenizes samples with one fast tokenizer and its chat template."""

    def __init__(self, tokenizer: Any, name: str) -> None:
        if not getattr(tokenizer, "is_fast", False):
            raise TypeError(f"tokenizer {name} is not a fast tokenizer: offsets are needed")
        self.tokenizer = tokenizer
        template = tokenizer.chat_template or ""
        vocabulary = tokenizer.backend_tokenizer.to_str()
        digest = hashlib.sha256(f"{vocabulary}\0{template}".encode()).hexdigest()
        self.identity = TokenizerIdentity(name, "sha256:" + digest)

    def check_is(self, identity: dict) -> None:
        """Raise TokenizerMismatch unless this is the tokenizer `identity` describes."""
        if identity.get("digest") != self.identity.digest:
            raise TokenizerMismatch(
                f"the dataset was tokenized with {identity.get('name')} "
                f"({identity.get('digest')}), not {self.identity.name} ({self.identity.digest}); "
                "build the dataset again with this tokenizer"
            )

    def render(
        self, sample: Sample, add_generation_prompt: bool = False, upto: int | None = None
    ) -> str:
        """The chat-templated text of the sample's first `upto` turns (all by default)."""
        messages = [turn.message for turn in sample.turns[:upto]]
        conversation = render_text_conversation(messages, sample.tools)
        return self.tokenizer.apply_chat_template(
            conversation, tokenize=False, add_generation_prompt=add_generation_prompt
        )

    def tokenize(self, samples: list[Sample]) -> list[TokenizedSample]:
        """Each sample's text, tokens and labels (IGNORE_INDEX outside trained turns)."""
        texts = [self.render(sample) for sample in samples]
        spans = [
            self._trained_spans(sample, text) for sample, text in zip(samples, texts, strict=True)
        ]
        tokenized = []
        for text, encoding, trained in zip(texts, self._encode(texts), spans, strict=True):
            ids = encoding.ids
            labels = trained_labels(ids, encoding, len(text), trained)
            tokenized.append(TokenizedSample(text, ids, labels, trained))
        return tokenized

    def _encode(self, texts: list[str]) -> list[Any]:
        """What `tokenizer(texts, add_special_tokens=False)` encodes, as the Rust tokenizer's
        encodings: one batch call on every core, without the wrapper's conversion of every
        encoding's fields to Python lists (a third of the tokenizing time)."""
        backend = self.tokenizer.backend_tokenizer
        backend.no_truncation()
        backend.no_padding()
        return backend.encode_batch(texts, add_special_tokens=False)

    def _trained_spans(self, sample: Sample, text: str) -> list[tuple[int, int]]:
        """Where each trained turn's text (and its end-of-turn token) lies in `text`."""
        conversation = render_text_conversation([t.message for t in sample.turns], sample.tools)
        end_token = self.tokenizer.eos_token or ""
        spans = []
        cursor = answer_start = 0
        for turn, rendered in zip(sample.turns, conversation, strict=True):
            # Contents appear in order, so each is searched for after the one before.
            start = text.find(rendered["content"], cursor)
            if start < 0:
                role = turn.message.role
                raise TemplateMismatch(f"the chat template does not show a {role} turn")
            cursor = start + len(rendered["content"])
            if turn.train is not None:
                answer_start = start
            if turn.train and rendered["content"]:
                end = cursor + len(end_token) if text.startswith(end_token, cursor) else cursor
                spans.append((start, end))
        self._check_last_prompt_is_prefix(sample, text, answer_start)
        return spans

    def _check_last_prompt_is_prefix(self, sample: Sample, text: str, answer_start: int) -> None:
        """The last answer must start right where the chat template's prompt for it ends."""
        last = max(i for i, turn in enumerate(sample.turns) if turn.train is not None)
        prompt = self.render(sample, add_generation_prompt=True, upto=last)
        if not text.startswith(prompt) or answer_start != len(prompt):
            raise TemplateMismatch(
                f"sample {sample.sample_id}: the chat template's prompt of the last answer is "
                "not a prefix of the sample's text"
            )


def trained_labels(
    input_ids: list[int], encoding: Any, text_length: int, spans: list[tuple[int, int]]
) -> list[int]:
    """A token's own id where it starts inside a trained span of the text, else IGNORE_INDEX
    (`encoding` is the text's `tokenizers.Encoding`)."""
    # Token starts never decrease, so each span's tokens are one slice: from the first token
    # starting at or after the span's start to the first starting at or after its end.
    labels = [IGNORE_INDEX] * len(input_ids)
    for span_start, span_end in spans:
        first = _first_token_from(encoding, span_start, text_length, len(input_ids))
        last = _first_token_from(encoding, span_end, text_length, len(input_ids))
        labels[first:last] = input_ids[first:last]
    return labels


def _first_token_from(encoding: Any, position: int, text_length: int, tokens: int) -> int:
    """The index of the first token that starts at or after character `position` (`tokens`
    when none does), asked of the encoding: turning every token's offsets into Python
    tuples instead cost a fifth of a dataset build."""
    # The first character from `position` on that a token covers (normally `position`).
    for character in range(position, text_length):
        covering = encoding.char_to_token(character)
        if covering is not None:
            start, _ = encoding.token_to_chars(covering)
            # A token that began before `position` runs into it: the next one is the first.
            return covering if start >= position else covering + 1
    return tokens


def load_sample_tokenizer(choice: str) -> SampleTokenizer:
    """`local` (the local model's tokenizer) or a directory holding a Hugging Face tokenizer."""
    # Imported here so that commands which never tokenize (every other `apollo` command)
    # start without loading torch and transformers.
    from transformers import AutoTokenizer

    from services.llm.local_model import load_local_model

    if choice == LOCAL_TOKENIZER:
        cache = converted_cache_dir(models_dir())
        if cache.is_dir():
            tokenizer = AutoTokenizer.from_pretrained(cache, local_files_only=True)
        else:
            tokenizer = load_local_model(models_dir()).tokenizer
        return SampleTokenizer(tokenizer, LOCAL_TOKENIZER)
    directory = Path(choice).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(f"no tokenizer directory {directory}; give `local` or a directory")
    tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    return SampleTokenizer(tokenizer, directory.name)
