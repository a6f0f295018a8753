"""`/quolum contract <provider>` through the real server and the Slack stand-in: admins only, the modal,
validation errors under their fields, nothing saved until everything is right."""

from __future__ import annotations

from datetime import date

import pytest

from handlers import contracts as hc
from handlers.commands import ADMINS_ONLY
from messages import contracts as mc
from sandbox import slack_requests as sr
from tests.conftest import install
from tests.handlers.test_digest import run
from tests.services.test_connections import post
from tests.services.test_invites import until


@pytest.fixture
async def bot(serve, settings, storage, slack):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    slack.add_user("U0002")  # a member
    return serve(settings)


def values(**given: str) -> dict:
    """A submission's state: text inputs, the period's radio, dates, the yes/no select, the owner."""
    state = {}
    for name in ("seats", "price", "currency", "notice_days"):
        state[name] = {name: {"type": "plain_text_input", "value": given.get(name) or None}}
    state["period"] = {
        "period": {"type": "radio_buttons", "selected_option": {"value": given.get("period", "month")}}
    }
    answer = given.get("auto_renews")
    state["auto_renews"] = {
        "auto_renews": {"type": "static_select", "selected_option": {"value": answer} if answer else None}
    }
    for name in ("start", "renewal"):
        state[name] = {name: {"type": "datepicker", "selected_date": given.get(name)}}
    state["owner"] = {"owner": {"type": "users_select", "selected_user": given.get("owner")}}
    return state


async def opened(bot, slack, text="contract hubspot") -> dict:
    before = len(slack.calls_to("views.open"))
    assert post(bot, sr.command(text, response_url=slack.response_url())).status_code == 200
    calls = await until(lambda: slack.calls_to("views.open")[before:])
    return calls[-1].args["view"]


async def test_members_are_refused_and_a_bad_provider_is_one_sentence(bot, slack):
    assert (await run(bot, slack, "contract hubspot", user="U0002"))["text"] == ADMINS_ONLY.format(
        what=hc.WHAT
    )
    reply = await run(bot, slack, "contract nosuchapp")
    assert reply["text"].startswith("I don't know a provider called `nosuchapp`. Known: ")
    assert (await run(bot, slack, "contract"))["text"].startswith("Usage: `/quolum contract <provider>`")
    assert slack.calls_to("views.open") == []


async def test_the_modal_shows_errors_under_their_fields_and_saves_when_right(bot, slack, storage):
    view = await opened(bot, slack)
    assert view["callback_id"] == mc.CALLBACK_ID
    assert [b.get("block_id") for b in view["blocks"][1:]] == [
        "seats",
        "price",
        "period",
        "currency",
        "start",
        "renewal",
        "notice_days",
        "auto_renews",
        "owner",
    ]
    bad = values(seats="lots", price="45", currency="QQQ", start="2026-06-01", renewal="2026-01-01")
    answer = post(bot, sr.view_submission(view, bad, user_id="U0001")).json()
    assert answer == {
        "response_action": "errors",
        "errors": {
            "seats": "`lots` is not a whole number from 0 to 1,000,000.",
            "currency": "`QQQ` is not an ISO 4217 currency I know: use one such as EUR, USD or JPY.",
        },
    }
    assert await storage.contracts.for_team("T0001") == []
    backwards = values(seats="100", price="45", currency="EUR", start="2026-06-01", renewal="2026-01-01")
    answer = post(bot, sr.view_submission(view, backwards, user_id="U0001")).json()
    assert answer["errors"] == {"renewal": "the renewal date must come after the start date."}

    good = values(
        seats="100",
        price="45",
        currency="eur",
        start="2026-01-01",
        renewal="2027-01-01",
        notice_days="30",
        auto_renews="yes",
        owner="U0002",
    )
    answer = post(bot, sr.view_submission(view, good, user_id="U0001")).json()
    assert answer["response_action"] == "update"
    said = answer["view"]["blocks"][0]["text"]["text"]
    assert (
        said == "Saved the HubSpot contract: 100 seats at €45.00 a month each. Notice deadline: 2026-12-02."
    )
    contract = (await storage.contracts.get("T0001", "hubspot")).contract
    assert (
        contract.seats,
        contract.price_minor,
        contract.currency,
        contract.owner,
        contract.auto_renews,
    ) == (100, 4500, "EUR", "U0002", True)
    assert contract.renews_on == date(2027, 1, 1)

    again = await opened(bot, slack)  # opened again: what was saved is filled in
    fields = {b["block_id"]: b["element"] for b in again["blocks"][1:]}
    assert fields["seats"]["initial_value"] == "100" and fields["owner"]["initial_user"] == "U0002"
    assert fields["renewal"]["initial_date"] == "2027-01-01"
    assert fields["auto_renews"]["initial_option"]["value"] == "yes"


async def test_someone_elses_form_saves_nothing(bot, slack, storage):
    view = await opened(bot, slack)
    answer = post(bot, sr.view_submission(view, values(seats="3"), user_id="U0002")).json()
    assert answer["response_action"] == "update"
    assert "belongs to someone else" in answer["view"]["blocks"][0]["text"]["text"]
    tampered = {**view, "private_metadata": "not json"}
    answer = post(bot, sr.view_submission(tampered, values(seats="3"), user_id="U0001")).json()
    assert "out of date" in answer["view"]["blocks"][0]["text"]["text"]
    assert await storage.contracts.for_team("T0001") == []
