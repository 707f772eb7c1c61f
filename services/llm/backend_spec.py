"""Building a backend from its spec string, with defaults from the environment's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.llm.port import FatalBackendError, ModelBackend
from services.llm.settings import model_backend_settings


def backend_from_spec(spec: str, **options: Any) -> ModelBackend:
    """Build a backend from "local", "local:CHECKPOINT_DIR", "scripted:NAME",
    "teacher:simulated", "anthropic:MODEL" or "openai:MODEL".

    Options go to the backend's constructor (e.g. `calls=` for scripted, `base_url=`,
    `api_key=`); keys and endpoints not given come from ModelBackendSettings.
    """
    kind, _, model = spec.partition(":")
    # Adapters are imported here, not at the top, so that importing the port loads no SDK,
    # no torch, and no adapter that imports the port back.
    if kind == "local":
        from services.llm.local import LocalBackend

        if model:
            # `local:DIR`: a transformers model directory, e.g. a checkpoint of `apollo train`.
            options.setdefault("model_dir", Path(model).expanduser())
        return LocalBackend(**options)
    if kind in ("scripted", "teacher"):
        from services.llm.scripted import ScriptedBackend

        if "calls" not in options:
            raise FatalBackendError(f"{spec!r} needs calls=[ScriptedCall(...), ...] to replay")
        # `teacher:simulated`: the simulated teacher's calls, worked out by the policy.
        return ScriptedBackend(name=model or kind, backend=kind, **options)
    if not model:
        raise FatalBackendError(f"backend spec {spec!r} names no model; write {kind}:MODEL")
    if kind == "anthropic":
        from services.llm.anthropic_messages import AnthropicBackend

        settings = model_backend_settings()
        options.setdefault("api_key", settings.anthropic_api_key.get_secret_value())
        options.setdefault("base_url", settings.anthropic_base_url)
        return AnthropicBackend(model=model, **options)
    if kind == "openai":
        from services.llm.openai_chat import OpenAIBackend

        settings = model_backend_settings()
        options.setdefault("api_key", settings.openai_api_key.get_secret_value())
        options.setdefault("base_url", settings.openai_base_url)
        return OpenAIBackend(model=model, **options)
    raise FatalBackendError(
        f"unknown backend {kind!r} in {spec!r}; use local, local:DIR, scripted:NAME, "
        "teacher:simulated, anthropic:MODEL or openai:MODEL"
    )
