"""The port's errors for a model API's failure, once the SDK's own retries are spent."""

from __future__ import annotations

from services.llm.port import BackendError, FatalBackendError, RetryableBackendError

# Six tries in all, as before the SDKs; they back off exponentially and honour Retry-After.
DEFAULT_MAX_RETRIES = 5
# What both SDKs retry (and so what is still transient when they give up): timeouts,
# lock conflicts, rate limits, every 5xx (529 is Anthropic's "overloaded").
_RETRIED_STATUSES = frozenset({408, 409, 429})


def status_error(url: object, status: int, detail: str, max_retries: int) -> BackendError:
    """A Retryable error for a status the SDK retried, else a Fatal one, with the API's words."""
    answered = f"{url} answered {status} {detail}"
    if status in _RETRIED_STATUSES or status >= 500:
        return RetryableBackendError(f"gave up after {max_retries + 1} attempts: {answered}")
    return FatalBackendError(answered)


def connection_error(url: object, error: BaseException, max_retries: int) -> RetryableBackendError:
    """A Retryable error for a network failure or timeout, named by its underlying cause."""
    cause = error.__cause__ or error
    return RetryableBackendError(
        f"gave up after {max_retries + 1} attempts: {url}: {type(cause).__name__}: {cause}"
    )
