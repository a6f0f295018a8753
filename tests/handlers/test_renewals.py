"""The renewal reminder's buttons through the real server: the owner or an admin answers, the first answer
stands, *Mark renewed* opens the contract form with the next term's dates and saving it restarts the
stages, an old reminder is out of date."""

from __future__ import annotations

import pytest

from core.contracts import Contract, parse
from handlers import renewals as hr
from handlers.commands import ADMINS_ONLY
from messages import renewals as mr
from sandbox import slack_requests as sr
from services.renewals import Key
from tests.handlers.test_contracts import bot  # noqa: F401  (the fixture: U0001 admin, U0002 member)
from tests.services.test_connections import post
from tests.services.test_invites import until

CONTRACT = {
    "provider": "hubspot",
    "seats": "100",
    "renewal": "2028-02-29",
    "notice_days": "30",
    "owner": "U0003",
}


async def click(server, slack, action: str, key: str, user: str) -> str | None:
    hook = slack.response_url()
    assert post(server, sr.action(action, value=key, user_id=user, response_url=hook)).status_code == 200
    hook_id = hook.rsplit("/", 1)[1]
    answer = await until(lambda: next((r for r in slack.responses if r["hook"] == hook_id), None), timeout=10)
    return answer.get("text")


@pytest.fixture
async def key(bot, storage, slack):  # noqa: F811
    slack.add_user("U0003")  # the owner, not an admin
    saved = await storage.contracts.save("T0001", contract(CONTRACT), "U0001")
    await storage.reminders.decide("T0001", "hubspot", saved.dates_rev, 30, ())
    return Key("T0001", "hubspot", saved.dates_rev, 30).text()


def contract(raw: dict) -> Contract:
    made, errors = parse(raw, lambda name: name if name == "hubspot" else None)
    assert errors == {}
    return made


async def test_the_owner_or_an_admin_answers_and_the_first_answer_stands(bot, slack, key):  # noqa: F811
    assert await click(bot, slack, mr.LATER, key, "U0002") == hr.NOT_OWNER
    said = await click(bot, slack, mr.CANCEL, key, "U0003")
    assert said == "<@U0003> will cancel: no more reminders for this contract's dates."
    assert await click(bot, slack, mr.LATER, key, "U0001") == hr.ANSWERED


async def test_mark_renewed_opens_the_form_with_the_next_terms_dates(bot, slack, key, storage):  # noqa: F811
    assert await click(bot, slack, mr.RENEWED, key, "U0003") == ADMINS_ONLY.format(what="set contracts")
    post(bot, sr.action(mr.RENEWED, value=key, user_id="U0001", response_url=slack.response_url()))
    view = (await until(lambda: slack.calls_to("views.open")))[-1].args["view"]
    fields = {b.get("block_id"): b.get("element") for b in view["blocks"][1:]}
    assert fields["start"]["initial_date"] == "2028-02-29"
    assert fields["renewal"]["initial_date"] == "2029-02-28"
    await storage.contracts.save("T0001", contract({**CONTRACT, "renewal": "2029-02-28"}), "U0001")
    old = await click(bot, slack, mr.LATER, key, "U0001")
    assert old == hr.OUT_OF_DATE.format(provider="hubspot")


@pytest.mark.parametrize("value", ["", "T0001|hubspot|x|30", "T0999|hubspot|0|30", "a|b|c"])
async def test_a_bad_or_foreign_key_is_out_of_date(bot, slack, key, value):  # noqa: F811
    assert (await click(bot, slack, mr.CANCEL, value, "U0001")).startswith("This reminder is out of date")


async def test_mark_renewed_saved_with_the_new_dates_restarts_the_stages(bot, slack, storage, settings):  # noqa: F811
    """Issue 26: reminded for the old dates, an admin clicks *Mark renewed* and saves the form with the
    next term's dates: the old dates remind no more (not even their missed deadline), and the stages
    start again before the new notice deadline, each on its day, in the owner's DM and the channel."""
    from datetime import UTC, datetime, time, timedelta

    from core.clock import FrozenClock
    from services.renewals import RENEWAL_EVENT
    from tests.handlers.test_contracts import values
    from tests.services.test_renewal_posts import service

    slack.add_user("U0003")  # the owner
    slack.add_channel("C0ALERTS", "alerts", member=True)
    await storage.alert_routes.set("T0001", "C0ALERTS", "U0001")
    old = await storage.contracts.save("T0001", contract(CONTRACT), "U0001")
    deadline = old.contract.notice_deadline()
    clock = FrozenClock(datetime.combine(deadline - timedelta(days=30), time(9), UTC))
    reminders = service(storage, settings, clock)

    def sent() -> list[tuple[int, str, str]]:
        found = []
        for channel, posts in slack.posts.items():
            for p in posts:
                meta = p.get("metadata") or {}
                if meta.get("event_type") == RENEWAL_EVENT:
                    _, _, rev, stage, *_ = meta["event_payload"]["id"].split("|")
                    found.append((int(rev), stage, "channel" if channel == "C0ALERTS" else "dm"))
        return sorted(found)

    await reminders.run(clock())
    assert sent() == [(old.dates_rev, "30", "channel"), (old.dates_rev, "30", "dm")]

    key = Key("T0001", "hubspot", old.dates_rev, 30).text()
    post(bot, sr.action(mr.RENEWED, value=key, user_id="U0001", response_url=slack.response_url()))
    view = (await until(lambda: slack.calls_to("views.open")))[-1].args["view"]
    fields = {b.get("block_id"): b.get("element") for b in view["blocks"][1:]}
    start, renewal = fields["start"]["initial_date"], fields["renewal"]["initial_date"]
    assert (start, renewal) == ("2028-02-29", "2029-02-28")
    form = values(seats="100", start=start, renewal=renewal, notice_days="30", owner="U0003")
    assert post(bot, sr.view_submission(view, form, user_id="U0001")).json()["response_action"] == "update"
    new = await storage.contracts.get("T0001", "hubspot")
    assert new.dates_rev > old.dates_rev
    new_deadline = new.contract.notice_deadline()
    assert new_deadline == datetime(2029, 1, 29).date()

    while clock().date() < new_deadline - timedelta(days=60):  # daily, through the old deadline
        clock.advance(days=1)
        await reminders.run(clock())
    stages = [(rev, stage) for rev, stage, where in sent() if where == "dm"]
    assert stages == [(old.dates_rev, "30"), (new.dates_rev, "60"), (new.dates_rev, "90")]
    assert sorted(stage for rev, stage, where in sent() if where == "channel") == ["30", "60", "90"]
    for stage, days_before in (("90", 90), ("60", 60)):  # each on its day: "N days left" in the text
        text = next(
            p["text"]
            for p in slack.posts_to("C0ALERTS")
            if f"|{new.dates_rev}|{stage}|" in str(p["metadata"])
        )
        assert f"({days_before} days left)" in text
