"""Concurrent `/quolum invite` commands, through the real server, on SQLite and PostgreSQL: the daily
limit and the one-open-invitation rule hold in the database, so exactly the allowed DMs go out."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from sandbox import slack_requests as sr
from storage.models import Invitation
from tests.conftest import install
from tests.services.test_connections import post

INVITER = "U0002"
CONCURRENT = 8
LIMIT = 10


@pytest.fixture
async def bot(serve, hub_settings, storage, slack):
    await install(storage, slack)
    slack.add_user(INVITER)
    for n in range(CONCURRENT * 5):
        slack.add_user(f"U1{n:03d}")
    return serve(hub_settings.with_overrides(invites_per_day=LIMIT))


async def run_concurrently(bot, slack, texts: list[str], users: list[str]) -> None:
    hooks = [slack.response_url() for _ in texts]
    bodies = [
        sr.command(f"invite {text}", user_id=user, response_url=hook)
        for text, user, hook in zip(texts, users, hooks, strict=True)
    ]
    with ThreadPoolExecutor(len(bodies)) as pool:
        statuses = [r.status_code for r in pool.map(lambda body: post(bot, body), bodies)]
    assert statuses == [200] * len(bodies)
    answered = {h.rsplit("/", 1)[1] for h in hooks}
    for _ in range(400):  # every command answers through its response_url once its DMs are sent
        if answered <= {r["hook"] for r in slack.responses}:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not every invite was answered")


def invitation_dms(slack) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.args["channel"].startswith("D")]


async def open_rows(storage) -> int:
    async with storage.db.session() as session:
        return await session.scalar(
            select(func.count()).select_from(Invitation).where(Invitation.status == "open")
        )


async def test_concurrent_invites_by_one_member_respect_the_daily_limit(bot, slack, storage):
    texts = [
        " ".join(f"<@U1{n * 5 + k:03d}>" for k in range(5)) for n in range(CONCURRENT)
    ]  # 8 commands of 5 different people each: 40 asked, 10 allowed
    await run_concurrently(bot, slack, texts, [INVITER] * CONCURRENT)
    assert len(invitation_dms(slack)) == LIMIT
    assert await open_rows(storage) == LIMIT
    invited = {c.args["channel"] for c in invitation_dms(slack)}
    assert len(invited) == LIMIT  # ten different people, one DM each


async def test_concurrent_identical_invites_send_one_dm(bot, slack, storage):
    await run_concurrently(bot, slack, ["<@U1000> hubspot"] * CONCURRENT, [INVITER] * CONCURRENT)
    assert len(invitation_dms(slack)) == 1
    assert await open_rows(storage) == 1


async def test_concurrent_invites_of_one_person_by_several_members_send_one_dm(bot, slack, storage):
    inviters = [f"U1{n:03d}" for n in range(10, 10 + CONCURRENT)]
    await run_concurrently(bot, slack, ["<@U1000>"] * CONCURRENT, inviters)
    assert len(invitation_dms(slack)) == 1
    assert await open_rows(storage) == 1
