"""The errors every provider call raises: `ProviderError` and its kinds. They carry `provider`,
`status`, `category` and a human sentence, never request headers, tokens or request/response objects;
`scrub` removes credentials from their text as a last line of defence."""

from __future__ import annotations

import re
from typing import Any

_MAX_MESSAGE = 300
# Credentials that must never reach an error text, even if a provider echoes them.
_SECRET_PATTERNS = (
    (re.compile(r"(?i)\bbearer\s+[^\s\"',;]{8,}"), "Bearer [redacted]"),
    (re.compile(r"\bSG\.[\w-]{8,}\.[\w-]{8,}"), "[redacted]"),  # SendGrid API key shape
)


# --------------------------------------------------------------------------- errors


class ProviderError(Exception):
    """A provider call failed. `str()` is a sentence fit for logs and admins; no secrets."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
        oauth_error: str | None = None,
        legacy_status: str | None = None,
        sub_category: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.category = category  # the deciding code: OAuth `error`, else `category`, `policyName`, `status`
        self.correlation_id = correlation_id
        self.oauth_error = oauth_error
        self.legacy_status = legacy_status
        self.sub_category = sub_category  # a finer code, where the provider gives one

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, status={self.status!r}, "
            f"category={self.category!r}, message={self.message!r})"
        )

    def __reduce__(self):  # keyword-only arguments: make pickling (e.g. to a worker) work
        return (_rebuild_error, (type(self), self.__dict__.copy()))


def _rebuild_error(cls: type[ProviderError], state: dict[str, Any]) -> ProviderError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class Unauthorized(ProviderError):
    """Credentials rejected (401) even after a refresh: the connection needs Reconnect."""


class MissingScopes(ProviderError):
    """The credentials lack a scope (403): that feature is unavailable, the connection is fine."""


class NeedsReconnect(ProviderError):
    """The provider refused the connection's credentials for good (raised by the credential manager)."""


class TransientError(ProviderError):
    """Timeouts, connection errors or transient statuses outlasted the retries."""


class RateLimited(TransientError):
    """Rate limited beyond what we are willing to wait. `retry_after`: seconds, if known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


# --------------------------------------------------------------------------- auth hook


def scrub(error: ProviderError, secrets: set[str]) -> None:
    """Remove credentials from the error's text (providers may echo input) and bound its length."""
    message = error.message
    for secret in sorted(secrets, key=len, reverse=True):
        for value in (secret, secret.split(" ", 1)[-1]):  # "Bearer <token>" and "<token>"
            if len(value) >= 8:
                message = message.replace(value, "[redacted]")
    for pattern, replacement in _SECRET_PATTERNS:
        message = pattern.sub(replacement, message)
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    error.message = message
    error.args = (message,)
