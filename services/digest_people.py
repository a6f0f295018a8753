"""The people a digest names: Slack members found by email, and who chose *Keep* (until when)."""

from __future__ import annotations

from dataclasses import replace

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.seats import DigestSeats
from messages import digest as builder


def with_kept(part: builder.ConnectionDigest, notes: DigestSeats) -> builder.ConnectionDigest:
    """Mark the named people who chose *Keep* (until when)."""
    if not notes.kept or part.report is None:
        return part
    seats = part.report.seats.inactive_paid_users[: builder.NAMED]
    named = [
        replace(person, kept_until=notes.kept.get((part.provider, seat.user_id)))
        for person, seat in zip(part.named, seats, strict=False)
    ]
    return replace(part, named=named)


async def lookup(client: AsyncWebClient, email: str) -> str | None:
    try:
        answer = await client.users_lookupByEmail(email=email)
    except SlackApiError:
        return None  # users_not_found, or the scope is missing: the email it is
    user = answer.get("user") or {}
    return None if user.get("deleted") else user.get("id")
