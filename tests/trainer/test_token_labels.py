"""Labels from character spans: exactly the tokens that start inside a trained span."""

from __future__ import annotations

import pytest

from services.trainer.tokenization import IGNORE_INDEX, SampleTokenizer, trained_labels

TEXTS = (
    '<|im_start|>assistant\nrun_command {"command": "ls"}<|im_end|>\n',
    # Characters of several bytes, which byte-level BPE splits over tokens that share offsets.
    "résumé 🚀🚀 数据 naïve\n<|im_end|>",
    "",
)


def by_offsets(ids: list[int], offsets: list[tuple[int, int]], spans: list[tuple[int, int]]):
    """The definition: a token is trained when its start lies in a span."""
    return [
        token if any(start <= offset[0] < end for start, end in spans) else IGNORE_INDEX
        for token, offset in zip(ids, offsets, strict=True)
    ]


@pytest.mark.parametrize("text", TEXTS)
def test_every_span_labels_the_tokens_starting_inside_it(
    tokenizer: SampleTokenizer, text: str
) -> None:
    encoding = tokenizer.tokenizer.backend_tokenizer.encode(text, add_special_tokens=False)
    ids, offsets = encoding.ids, encoding.offsets
    if text.isascii():
        assert len(set(offsets)) == len(offsets)
    else:  # the case this guards: tokens sharing a character's offsets
        assert len(set(offsets)) < len(offsets)
    for start in range(len(text) + 1):
        for end in range(start, len(text) + 1):
            spans = [(start, end)]
            assert trained_labels(ids, encoding, len(text), spans) == by_offsets(
                ids, offsets, spans
            ), (text, spans)


def test_several_spans_label_each_of_their_slices(tokenizer: SampleTokenizer) -> None:
    text = TEXTS[0] + TEXTS[1]
    encoding = tokenizer.tokenizer.backend_tokenizer.encode(text, add_special_tokens=False)
    spans = [(12, 40), (len(TEXTS[0]) + 3, len(text) - 5)]

    labels = trained_labels(encoding.ids, encoding, len(text), spans)

    assert labels == by_offsets(encoding.ids, encoding.offsets, spans)
    assert IGNORE_INDEX in labels
    assert set(labels) != {IGNORE_INDEX}
