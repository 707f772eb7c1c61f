"""POST a JSON request to a model API, retrying transient failures with exponential backoff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from services.llm.port import FatalBackendError, RetryableBackendError

log = structlog.get_logger(__name__)

# What the official SDKs retry: timeouts, lock conflicts, rate limits, every 5xx (529 is
# Anthropic's "overloaded").
_RETRYABLE_STATUS = frozenset({408, 409, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure."""

    attempts: int = 6  # total tries, the first included
    initial_wait_s: float = 1.0  # doubled after every failure
    max_wait_s: float = 60.0  # cap of one wait, a server's Retry-After included


class TransientHTTPError(RetryableBackendError):
    """One transient failure; `retry_after_s` is the server's hint, if it sent one."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def _is_retryable(status: int) -> bool:
    return status in _RETRYABLE_STATUS or status >= 500


def _error_text(response: httpx.Response) -> str:
    """The API's own error message (both APIs nest it under "error"), else the raw body."""
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return response.text[:500]
    if isinstance(error, dict):
        kind = error.get("type") or error.get("code") or "error"
        return f"{kind}: {error.get('message', '')}"
    return str(error)[:500]


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None


class _Backoff:
    """Exponential backoff that waits at least as long as the server's Retry-After asks."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def __call__(self, state: RetryCallState) -> float:
        exponential = self._policy.initial_wait_s * 2 ** (state.attempt_number - 1)
        error = state.outcome.exception() if state.outcome else None
        hint = getattr(error, "retry_after_s", None) or 0.0
        return min(max(exponential, hint), self._policy.max_wait_s)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("model_call_retry", attempt=state.attempt_number, error=str(error))


async def _post_once(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], payload: dict[str, Any]
) -> dict[str, Any]:
    try:
        response = await client.post(url, headers=headers, json=payload)
    except httpx.TransportError as error:
        raise TransientHTTPError(f"{url}: {type(error).__name__}: {error}") from error
    if _is_retryable(response.status_code):
        raise TransientHTTPError(
            f"{url} answered {response.status_code} {_error_text(response)}",
            _retry_after(response),
        )
    if response.status_code >= 400:
        raise FatalBackendError(f"{url} answered {response.status_code} {_error_text(response)}")
    try:
        return response.json()
    except ValueError as error:
        raise FatalBackendError(f"{url} answered a body that is not JSON") from error


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    payload: dict[str, Any],
    policy: RetryPolicy,
) -> dict[str, Any]:
    """The decoded JSON answer; RetryableBackendError once the retries are spent."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=_Backoff(policy),
        retry=retry_if_exception_type(TransientHTTPError),
        before_sleep=_log_retry,
        reraise=True,
    )
    try:
        return await retrying(_post_once, client, url, headers, payload)
    except TransientHTTPError as error:
        raise RetryableBackendError(f"gave up after {policy.attempts} attempts: {error}") from error
