"""What a failed seat write means, whichever provider answered: a pure reading of a `ProviderError`
into a `core.seats.SeatOutcome` (each provider's seat hooks add their own sentences)."""

from __future__ import annotations

from core.seats import SeatOutcome
from providers.http import MissingScopes, ProviderError, TransientError, Unauthorized


def outcome_of(error: ProviderError) -> SeatOutcome:
    """403 missing scope -> MISSING_SCOPE (offer *Enable reclaiming*); 404 -> GONE (the user or the
    seat is not there); a rejected credential, 5xx, timeouts and 429s outlasting the retries -> FAILED
    (nothing changed, may be tried again); any other refusal (400, 409, a 403 that is no scope) ->
    REFUSED."""
    if isinstance(error, MissingScopes):
        return SeatOutcome.MISSING_SCOPE
    if error.status == 404:
        return SeatOutcome.GONE
    if isinstance(error, Unauthorized | TransientError) or error.status is None or error.status >= 500:
        return SeatOutcome.FAILED
    return SeatOutcome.REFUSED
