"""The local model in transformers (the GGUF converted once, or a trained checkpoint), on CPU."""

from __future__ import annotations

import os

# Nothing is ever downloaded at run time. This is not a setting we read but a promise we give
# huggingface_hub, which reads it only from the environment and only once, when it is first
# imported: hence here, before transformers. `local_files_only=True` says it again per load.
os.environ["HF_HUB_OFFLINE"] = "1"

import functools
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GgufConfig,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
)

from services.llm.call_grammar import CallConstraint, grammar_tokenizer
from services.llm.model_files import GGUF_NAME, converted_cache_dir, gguf_path
from services.llm.port import FatalBackendError
from services.llm.text_tools import CALL_CLOSE

# Generation stops as soon as the (single) tool call is closed.
STOP_TEXT = CALL_CLOSE
# Enough trailing tokens to hold STOP_TEXT however the tokenizer splits it.
_STOP_WINDOW_TOKENS = 12


class ModelNotFetchedError(FatalBackendError):
    """The GGUF file is not in the models directory yet."""


@dataclass
class LocalModel:
    """A loaded tokenizer and model, with the lock that allows one generation at a time."""

    tokenizer: Any
    model: Any
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def context_tokens(self) -> int:
        return int(self.model.config.max_position_embeddings)

    @functools.cached_property
    def grammar_tokenizer(self) -> Any:
        """The tokenizer as the call grammar needs it (built on the first constrained call)."""
        return grammar_tokenizer(self.tokenizer)

    def template(self, conversation: list[dict[str, str]]) -> list[int]:
        """Token ids of the chat-templated conversation, generation prompt included."""
        encoded = self.tokenizer.apply_chat_template(
            conversation, add_generation_prompt=True, tokenize=True, return_dict=True
        )
        return list(encoded["input_ids"])

    def generate(
        self,
        prompt_ids: list[int],
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int | None,
        grammar: str | None = None,
    ) -> list[int]:
        """The generated token ids (blocking; one generation at a time); with a call
        `grammar`, the answer is held to it (see `call_grammar`)."""
        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": temperature, "top_p": top_p}
            if temperature > 0
            else {"do_sample": False}
        )
        inputs = torch.tensor([prompt_ids])
        stop = _StopAfterText(self.tokenizer, len(prompt_ids), STOP_TEXT)
        with self.lock, torch.inference_mode():
            # The seed is global torch state, so it is set under the same lock.
            if seed is not None:
                torch.manual_seed(seed)
            output = self.model.generate(
                inputs,
                attention_mask=torch.ones_like(inputs),
                max_new_tokens=max_new_tokens,
                pad_token_id=self.tokenizer.eos_token_id,
                stopping_criteria=StoppingCriteriaList([stop]),
                logits_processor=LogitsProcessorList(
                    [CallConstraint(self.grammar_tokenizer, grammar, len(prompt_ids))]
                    if grammar
                    else []
                ),
                **sampling,
            )
        return output[0, len(prompt_ids) :].tolist()

    def decode(self, token_ids: list[int]) -> str:
        """The text of generated tokens, special tokens left out."""
        return self.tokenizer.decode(token_ids, skip_special_tokens=True)


class _StopAfterText(StoppingCriteria):
    """Stops once the generated text ends a given marker.

    transformers' own `stop_strings` precomputes tables over the whole vocabulary on every
    call (seconds on CPU); decoding a few trailing tokens per step costs microseconds.
    """

    def __init__(self, tokenizer: Any, prompt_length: int, text: str) -> None:
        self._tokenizer = tokenizer
        self._prompt_length = prompt_length
        self._text = text

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        start = max(self._prompt_length, input_ids.shape[1] - _STOP_WINDOW_TOKENS)
        tails = self._tokenizer.batch_decode(input_ids[:, start:])
        return torch.tensor([self._text in tail for tail in tails], dtype=torch.bool)


def _convert(directory: Path, cache: Path) -> None:
    # Explicit de-quantization gives a plain dense model that save_pretrained accepts; a
    # model left in GGUF blocks is not serializable.
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=GGUF_NAME, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(
        directory,
        gguf_file=GGUF_NAME,
        local_files_only=True,
        quantization_config=GgufConfig(dequantize=True),
    )
    # Write beside the final place and rename, so a killed conversion leaves no half cache.
    scratch = Path(tempfile.mkdtemp(prefix=".converting-", dir=directory))
    try:
        tokenizer.save_pretrained(scratch)
        model.save_pretrained(scratch)
        scratch.rename(cache)
    except OSError:
        if not cache.is_dir():
            raise
        # Another process finished the same conversion first; its copy is as good as ours.
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def is_model_directory(directory: Path) -> bool:
    """Whether `directory` is a transformers model directory (a trained checkpoint)."""
    return (directory / "config.json").is_file()


def transformers_model_dir(directory: Path) -> Path:
    """The transformers directory to load for `directory`: itself when it is a model directory
    (a trained checkpoint), else the converted copy of the GGUF it holds (converted once)."""
    if is_model_directory(directory):
        return directory
    if not gguf_path(directory).is_file():
        raise ModelNotFetchedError(
            f"{GGUF_NAME} is not in {directory}; run scripts/fetch-local-model "
            "(APOLLO_MODEL_DIR chooses the directory), or name a checkpoint directory "
            "(local:DIR, a transformers model directory with its config.json)"
        )
    cache = converted_cache_dir(directory)
    if not cache.is_dir():
        _convert(directory, cache)
    return cache


def _load(directory: Path) -> LocalModel:
    weights = transformers_model_dir(directory)
    tokenizer = AutoTokenizer.from_pretrained(weights, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(weights, local_files_only=True)
    model.eval()
    return LocalModel(tokenizer, model)


_loaded: dict[Path, LocalModel] = {}
_loading = threading.Lock()


def load_local_model(directory: Path) -> LocalModel:
    """The model in `directory` (a models directory or a checkpoint), loaded once per process
    and shared by every backend."""
    key = directory.expanduser().resolve()
    with _loading:
        if key not in _loaded:
            _loaded[key] = _load(key)
        return _loaded[key]
