# ruff: noqa: F811  (the digest fixtures of test_digests.py are imported, and named as arguments)
"""The digest's spend line through the real service (issue 26, item 4): the contracts' prices times the
seats bought (else assigned), the idle part from the collected report, counted here from the post."""

from __future__ import annotations

import json

from core.contracts import Contract
from tests.services.test_digests import SEND, bot, clock, hubspot, subscribed  # noqa: F401  (fixtures)


async def test_the_digest_adds_up_the_contracts_and_their_idle_seats(bot, storage, slack, clock):
    await storage.contracts.save(
        "T0001", Contract("hubspot", seats=60, price_minor=108000, period="year", currency="EUR"), "U0001"
    )  # €90.00 a seat a month
    await subscribed(bot)
    clock.now = SEND
    assert (await bot.digests.run(SEND)).posted == 1
    (post,) = slack.posts_to("C0001")
    [latest] = await storage.snapshots.history("T0001", "hubspot", 1)
    idle = latest.seats.paid_seats - latest.seats.active_paid_users
    assert idle > 0
    line = f"Spend on 1 contract: *€{60 * 90:,}/month*, €{idle * 90:,}/month of it on idle seats"
    assert line in json.dumps(post["blocks"], ensure_ascii=False)
    assert line.replace("*", "") in post["text"]
