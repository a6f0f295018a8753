"""Which Slack member holds a provider seat: the same email, or a login an admin linked."""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from core.reports import InactiveSeat

log = logging.getLogger("quolum.seats")


async def members_by_email(client: AsyncWebClient | None) -> dict[str, str]:
    """Lower-case email -> member id, for every active human member the bot can see (users:read.email)."""
    found: dict[str, str] = {}
    if client is None:
        return found
    try:
        async for page in await client.users_list(limit=200):
            for user in page.get("members") or []:
                email = (user.get("profile") or {}).get("email")
                if email and not user.get("deleted") and not user.get("is_bot"):
                    found[email.lower()] = user["id"]
    except Exception as error:  # Slack down: seats are shown without mentions, nobody is asked wrongly
        log.warning("listing members to match seats failed: %s", type(error).__name__)
    return found


def slack_member(
    seat: InactiveSeat, provider: str, emails: dict[str, str], links: dict[tuple[str, str], str]
) -> str | None:
    keys = [seat.user_id.lower()] + ([seat.email.lower()] if seat.email else [])
    linked = next((links[(p, k)] for p in (provider, "") for k in keys if (p, k) in links), None)
    return linked or (emails.get(seat.email.lower()) if seat.email else None)
