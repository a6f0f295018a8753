"""The people a digest names: Slack members found by email, and who chose *Keep* (until when)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.reports import UsageReport
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


async def named(client: AsyncWebClient | None, report: UsageReport, cache: dict) -> list[builder.Person]:
    """The first inactive seats, as Slack mentions where the email matches a member."""
    seats = report.seats.inactive_paid_users[: builder.NAMED]
    lookups = []  # started together: the lookups of one digest overlap, not one round trip each
    for seat in seats:
        found = None
        if client is not None and seat.email:
            key = ("email", report.team_id, seat.email.lower())
            if key not in cache:
                cache[key] = asyncio.ensure_future(lookup(client, seat.email))
            found = cache[key]
        lookups.append(found)
    people = []
    for seat, found in zip(seats, lookups, strict=True):
        user_id = await found if found is not None else None
        label = seat.email or seat.name or seat.user_id
        people.append(builder.Person(label, seat.last_active, user_id=user_id))
    return people
