"""App Home: the pure view builder, the stand-in's views.publish, and the tab kept current end to end."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from core.contracts import Contract
from messages import app_home, blocks, cards
from messages import invite_blocks as ib
from providers.hubspot.entry import SPEC as HUBSPOT
from providers.sendgrid.entry import SPEC as SENDGRID
from sandbox import slack_requests as sr
from storage.connections import CONNECTED, NEEDS_RECONNECT, ConnectionRecord
from storage.invitations import InvitationRecord
from tests.conftest import install
from tests.services.test_connections import Browser, buttons, post

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def connection(provider: str, status: str = CONNECTED, **overrides) -> ConnectionRecord:
    fields = dict(
        id=1,
        team_id="T0001",
        provider=provider,
        status=status,
        status_reason="the token was revoked",
        account_id="101",
        account_name="acme.example",
        details={},
        scopes=(),
        unavailable=(),
        credentials={},
        expires_at=None,
        token_lifetime=None,
        connected_by="U0001",
        connected_at=NOW,
        last_used_at=NOW,
        last_refreshed_at=None,
        disconnected_by=None,
        disconnected_at=None,
    )
    return ConnectionRecord(**{**fields, **overrides})


def invitation(n: int) -> InvitationRecord:
    return InvitationRecord(
        id=f"inv-{n}",
        team_id="T0001",
        provider="hubspot",
        inviter_id="U0002",
        invitee_id=f"U9{n:04d}",
        status="open",
        created_at=NOW,
        expires_at=NOW + timedelta(days=7),
        reminded_at=None,
        dm_channel=None,
        dm_ts=None,
    )


def data(**overrides) -> app_home.HomeData:
    rows = [
        cards.Row(
            HUBSPOT, True, connection("hubspot"), connect_url="http://127.0.0.1/oauth/hubspot/start?state=s"
        ),
        cards.Row(SENDGRID, True, None),
    ]
    return app_home.HomeData(**{"rows": rows, "can_connect": True, **overrides})


def text_of(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def assert_valid_home(view: dict) -> None:
    assert view["type"] == "home" and 0 < len(view["blocks"]) <= 100
    View(**view).validate_json()
    for block in view["blocks"]:
        Block.parse(block).validate_json()


# --- the builder (pure) -------------------------------------------------------------------------
def test_nothing_yet_sections_say_so():
    view = app_home.home_view(data())
    assert_valid_home(view)
    for empty in (
        app_home.NO_SUBSCRIPTIONS,
        app_home.NO_INVITATIONS,
        app_home.NO_INCIDENTS,
        app_home.NO_DIGEST,
    ):
        assert empty in text_of(view)


def test_connections_with_state_and_connect_or_reconnect():
    view = app_home.home_view(data())
    found = buttons(view)
    assert found["connect_link:hubspot"]["text"]["text"] == cards.RECONNECT
    assert found["connect_modal:sendgrid"]["text"]["text"] == cards.CONNECT
    assert "acme.example" in text_of(view) and cards.NOT_CONNECTED in text_of(view)


def test_a_lost_connection_says_needs_reconnect():
    rows = [cards.Row(HUBSPOT, True, connection("hubspot", NEEDS_RECONNECT), connect_url="http://x/start")]
    view = app_home.home_view(data(rows=rows))
    assert "Needs reconnect" in text_of(view) and "the token was revoked" in text_of(view)
    assert buttons(view)["connect_link:hubspot"]["text"]["text"] == cards.RECONNECT


def test_a_member_sees_states_without_buttons():
    view = app_home.home_view(data(can_connect=False, rows=[cards.Row(HUBSPOT, True, None)]))
    assert buttons(view) == {} and cards.MEMBER_HINT in text_of(view)


@pytest.mark.parametrize("count,shown,more", [(1, 1, None), (20, 20, None), (23, 20, "…and 3 more.")])
def test_open_invitations_listed_and_capped(count, shown, more):
    view = app_home.home_view(
        data(invitations=[invitation(n) for n in range(count)], provider_names={"hubspot": "HubSpot"})
    )
    assert_valid_home(view)
    assert text_of(view).count("to connect HubSpot") == shown
    assert app_home.NO_INVITATIONS not in text_of(view)
    assert (more in text_of(view)) if more else ("more." not in text_of(view))


def test_the_digest_and_alert_features_hand_in_lines():
    view = app_home.home_view(
        data(
            subscriptions=["<#C1> · weekly"],
            incidents=[":warning: HubSpot lost access"],
            last_digest="*12* idle seats",
        )
    )
    assert_valid_home(view)
    for line in ("<#C1> · weekly", ":warning: HubSpot lost access", "*12* idle seats"):
        assert line in text_of(view)
    for empty in (app_home.NO_SUBSCRIPTIONS, app_home.NO_INCIDENTS, app_home.NO_DIGEST):
        assert empty not in text_of(view)


# --- the stand-in answers views.publish as Slack does --------------------------------------------
def publish(slack, **args) -> dict:
    token = slack.workspaces["T0001"].bot_token
    return httpx.post(
        f"{slack.url}/api/views.publish", json=args, headers={"Authorization": f"Bearer {token}"}
    ).json()


def test_standin_views_publish_is_faithful(slack):
    slack.add_user("U0001")
    good = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}
    assert publish(slack, user_id="UNOBODY", view=good)["error"] == "user_not_found"
    assert publish(slack, user_id="U0001")["error"] == "invalid_arguments"
    assert publish(slack, user_id="U0001", view={**good, "type": "modal"})["error"] == "invalid_arguments"
    too_long = {
        "type": "home",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
    }
    refused = publish(slack, user_id="U0001", view=too_long)
    assert refused["error"] == "invalid_arguments" and "150" in refused["response_metadata"]["messages"][0]
    assert (
        publish(slack, user_id="U0001", view={"type": "home", "blocks": [good["blocks"][0]] * 101})["error"]
        == "invalid_arguments"
    )
    first = publish(slack, user_id="U0001", view=good)
    assert first["ok"] and first["view"]["type"] == "home" and first["view"]["hash"]
    assert publish(slack, user_id="U0001", view=good, hash="stale.hash")["error"] == "hash_conflict"
    again = publish(slack, user_id="U0001", view=good, hash=first["view"]["hash"])
    assert again["ok"] and again["view"]["id"] == first["view"]["id"]
    assert slack.home_views["U0001"]["hash"] == again["view"]["hash"]
    slack.home_tab_enabled = False
    assert publish(slack, user_id="U0001", view=good)["error"] == "not_enabled"


# --- end to end ----------------------------------------------------------------------------------
INVITER, HUB_ADMIN = "U0002", "U0003"


@pytest.fixture
async def bot(serve, hub_settings, storage, slack):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    slack.add_user(INVITER)
    slack.add_user(HUB_ADMIN)
    return serve(hub_settings)


def open_home(bot, user: str) -> None:
    event = {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"}
    body = sr.event(event, event_id=f"EvHOME{user}")
    assert post(bot, body, content_type="application/json").status_code == 200


async def home_of(slack, user: str, until=lambda view: True, timeout: float = 6.0) -> dict:
    for _ in range(int(timeout / 0.05)):
        view = slack.home_views.get(user)
        if view is not None and until(view):
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"no matching App Home for {user}: {slack.home_views.get(user)}")


async def test_admin_opens_home_and_it_follows_a_connection(bot, slack, hubspot):
    open_home(bot, "U0001")
    home = await home_of(slack, "U0001")
    assert_valid_home(home)
    connect = buttons(home)["connect_link:hubspot"]
    assert connect["text"]["text"] == cards.CONNECT and app_home.NO_INVITATIONS in text_of(home)
    page = Browser(bot, hubspot).connect(connect["url"])  # the Connect button of App Home itself
    assert page.status_code == 200
    home = await home_of(slack, "U0001", lambda v: "portal101.example.com" in text_of(v))
    assert buttons(home)["connect_link:hubspot"]["text"]["text"] == cards.RECONNECT


async def test_a_member_sees_no_buttons(bot, slack):
    open_home(bot, INVITER)
    home = await home_of(slack, INVITER)
    assert buttons(home) == {} and cards.MEMBER_HINT in text_of(home)


async def test_an_invitation_shows_on_both_homes_until_accepted(bot, slack, hubspot):
    open_home(bot, "U0001")  # an admin with the tab open sees it too
    await home_of(slack, "U0001")
    hook = slack.response_url()
    post(bot, sr.command(f"invite <@{HUB_ADMIN}> hubspot", user_id=INVITER, response_url=hook))
    line = ib.OPEN_LINE.split(" {when}")[0].format(inviter=INVITER, invitee=HUB_ADMIN, provider="HubSpot")
    for user in (INVITER, HUB_ADMIN, "U0001"):
        await home_of(slack, user, lambda v: line in text_of(v))
    dm = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "D" + HUB_ADMIN[1:]][-1]
    click = slack.response_url()
    post(
        bot,
        sr.action(
            ib.INVITE_CONNECT,
            value=buttons(dm.args)[ib.INVITE_CONNECT]["value"],
            user_id=HUB_ADMIN,
            response_url=click,
        ),
    )
    for _ in range(100):
        answer = [r for r in slack.responses if r["hook"] == click.rsplit("/", 1)[1]]
        if answer:
            break
        await asyncio.sleep(0.05)
    Browser(bot, hubspot).connect(buttons(answer[-1])["connect_link:hubspot"]["url"])
    for user in (INVITER, HUB_ADMIN):
        await home_of(slack, user, lambda v: app_home.NO_INVITATIONS in text_of(v))


async def test_a_refused_publish_is_logged_not_raised(bot, slack, caplog):
    slack.fail_next("views.publish", "not_enabled")
    open_home(bot, "U0001")
    for _ in range(100):
        if slack.calls_to("views.publish"):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    assert "U0001" not in slack.home_views
    assert not [r for r in caplog.records if r.levelname == "ERROR" and "listener failed" in r.getMessage()]


async def test_disconnect_from_app_home_has_no_response_url_and_republishes(
    bot, slack, hubspot, storage, caplog
):
    open_home(bot, "U0001")
    Browser(bot, hubspot).connect(buttons(await home_of(slack, "U0001"))["connect_link:hubspot"]["url"])
    await home_of(slack, "U0001", lambda v: "disconnect:hubspot" in buttons(v))
    click = sr.action(
        "disconnect:hubspot", value="hubspot", user_id="U0001", extra={"container": {"type": "view"}}
    )
    assert post(bot, click).status_code == 200  # Slack sends no response_url for App Home clicks
    home = await home_of(slack, "U0001", lambda v: "disconnect:hubspot" not in buttons(v))
    assert buttons(home)["connect_link:hubspot"]["text"]["text"] == cards.CONNECT
    assert (await storage.connections.get("T0001", "hubspot")).status != CONNECTED
    assert not [r for r in caplog.records if "listener failed" in r.getMessage()]


# --- contracts (issue 26, item 4): admins see each contract with its next deadline ---------------
DAY = blocks.slack_day


@pytest.mark.parametrize(
    ("contract", "price", "expected"),
    [
        (
            Contract(
                "hubspot",
                seats=60,
                price_minor=9000,
                period="month",
                currency="EUR",
                renews_on=date(2027, 3, 1),
                notice_days=30,
                auto_renews=True,
            ),
            "€90",
            f"*HubSpot* · 60 seats bought · €90 a seat a month · notice by {DAY(date(2027, 1, 30))}, "
            f"renews {DAY(date(2027, 3, 1))}",
        ),
        (
            Contract(
                "zoom",
                price_minor=180000,
                period="year",
                currency="EUR",
                renews_on=date(2027, 3, 1),
                auto_renews=False,
            ),
            "€1,800",
            f"*Zoom* · seats bought not set · €1,800 a seat a year · notice by {DAY(date(2027, 3, 1))}, "
            f"renews {DAY(date(2027, 3, 1))} (ends unless renewed)",
        ),
        (Contract("github", seats=5), None, "*GitHub* · 5 seats bought"),
    ],
)
def test_a_contract_line_names_its_seats_price_and_next_deadline(contract, price, expected):
    name = {"hubspot": "HubSpot", "zoom": "Zoom", "github": "GitHub"}[contract.provider]
    assert app_home.contract_line(contract, name, price) == expected


def test_contracts_show_for_admins_and_say_how_to_record_one():
    assert app_home.NO_CONTRACTS in text_of(app_home.home_view(data(contracts=[])))
    assert app_home.CONTRACTS not in text_of(app_home.home_view(data()))  # a member: no section
    line = app_home.contract_line(Contract("hubspot", seats=3), "R&D <tools>", None)
    assert "R&amp;D &lt;tools&gt;" in line and "<tools>" not in line


async def test_an_admin_sees_the_contracts_nearest_deadline_first_and_a_member_does_not(bot, slack, storage):
    late = Contract(
        "hubspot",
        seats=60,
        price_minor=9000,
        period="month",
        currency="EUR",
        renews_on=date(2027, 6, 1),
        notice_days=30,
    )
    soon = Contract("sendgrid", seats=4, renews_on=date(2027, 2, 1), notice_days=30)
    for c in (late, soon):
        await storage.contracts.save("T0001", c, "U0001")
    open_home(bot, "U0001")
    # a loaded machine (CI) has taken more than the default 6 s to publish a first tab on PostgreSQL
    home = await home_of(slack, "U0001", lambda v: app_home.CONTRACTS in text_of(v), timeout=20)
    assert_valid_home(home)
    text = text_of(home)
    assert text.index("*SendGrid* · 4 seats bought") < text.index("*HubSpot* · 60 seats bought · €90 a seat")
    open_home(bot, INVITER)
    member = await home_of(slack, INVITER, timeout=20)
    assert app_home.CONTRACTS not in text_of(member) and "seats bought" not in text_of(member)
