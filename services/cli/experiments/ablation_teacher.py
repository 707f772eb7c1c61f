"""The ablation's teacher: the simulated one, or a model behind one of the API backends.

`--teacher` wins; without it, APOLLO_TEACHER; without that, the simulated teacher. A key in
the environment does not choose a model teacher by itself: neither API's settings name a
model, and a teacher that changed with the environment would change a stored plan under a
rerun. The policy service of the stack makes the model calls, with the keys and endpoints
it reads from the environment it was started in.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.llm.port import FatalBackendError
from services.llm.settings import model_backend_settings
from services.runtime.settings import ApolloSettings
from services.tasks.teacher import SIMULATED, TEACHER_BACKEND

# The backends a model teacher may use.
MODEL_BACKENDS = ("anthropic", "openai")
TEACHER_CHOICES = "simulated, anthropic:MODEL or openai:MODEL"


class TeacherSettings(ApolloSettings):
    """The ablation's teacher when the command names none; an empty variable counts as unset."""

    model_config = SettingsConfigDict(env_ignore_empty=True)

    teacher: str | None = Field(
        default=None,
        description=f"Teacher of `apollo experiment ablation` without --teacher: {TEACHER_CHOICES}",
    )


class BadTeacherChoice(ValueError):
    """A teacher that is not the simulated one nor a model of a known API backend."""


@dataclass(frozen=True)
class Teacher:
    """Who collects the ablation's trajectories: `simulated` or a spec like `anthropic:MODEL`."""

    spec: str

    @property
    def is_simulated(self) -> bool:
        """Whether its mistakes are planned, and so known."""
        return self.spec == SIMULATED

    @property
    def policy(self) -> str:
        """The policy spec its trajectories start with."""
        return f"{TEACHER_BACKEND}:{SIMULATED}" if self.is_simulated else self.spec

    def described(self, deviation_rate: float) -> str:
        """How the report names it."""
        if self.is_simulated:
            return f"{SIMULATED} (deviation rate {deviation_rate})"
        return self.spec


SIMULATED_TEACHER = Teacher(SIMULATED)


def parsed_teacher(text: str) -> Teacher:
    """The teacher `text` names (`teacher:simulated` is the simulated one); raises
    BadTeacherChoice."""
    text = text.strip()
    if text in (SIMULATED, SIMULATED_TEACHER.policy):
        return SIMULATED_TEACHER
    backend, _, model = text.partition(":")
    if backend not in MODEL_BACKENDS or not model.strip():
        raise BadTeacherChoice(f"teacher {text!r}: use {TEACHER_CHOICES}")
    return Teacher(f"{backend}:{model.strip()}")


def chosen_teacher(option: str | None) -> Teacher:
    """The `--teacher` option's teacher, else APOLLO_TEACHER's, else the simulated one."""
    text = option if option is not None else TeacherSettings().teacher
    return SIMULATED_TEACHER if text is None else parsed_teacher(text)


def unreachable_reason(teacher: Teacher) -> str | None:
    """Why the model teacher cannot be called with this environment's settings (None: it can).

    The anthropic backend needs a key; the openai one an endpoint or a key (without an
    endpoint it calls OpenAI's own, which wants a key). A stack started elsewhere may hold
    other settings, but one started by this command inherits these.
    """
    try:
        settings = model_backend_settings()
    except FatalBackendError as error:
        return str(error)
    backend = teacher.spec.partition(":")[0]
    if backend == "anthropic" and not settings.anthropic_api_key.get_secret_value():
        return f"the teacher {teacher.spec} needs ANTHROPIC_API_KEY"
    if (
        backend == "openai"
        and not settings.openai_base_url
        and not settings.openai_api_key.get_secret_value()
    ):
        return f"the teacher {teacher.spec} needs APOLLO_OPENAI_BASE_URL or OPENAI_API_KEY"
    return None
