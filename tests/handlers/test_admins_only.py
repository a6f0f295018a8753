"""Who may do what, said once: the command table's `admins_only` flag and the buttons' one predicate.

The table below is every `/quolum` request that needs an admin (and, beside each, the same command
asking only to look, or making a usage mistake, which anyone may). Through the real server a member
asks for each admin-only one, and clicks each button that changes something: each is refused with
the one sentence (`ADMINS_ONLY`, or `SLACK_ADMINS_ONLY` for changing the Quolum admins) and nothing
in the database changes.
"""

from __future__ import annotations

import pytest

from handlers import commands, listeners, seats  # noqa: F401  (listeners registers every command)
from handlers.commands import ADMINS_ONLY, COMMANDS, SLACK_ADMINS_ONLY
from messages import alerts as am
from messages import digest as db
from messages import seats as sm
from messages.cards import DISCONNECT_ACTION
from providers.registry import INSTALLED
from sandbox import slack_requests as sr
from services.digest_schedule import WEEKLY, Schedule
from tests.conftest import connect_hubspot, install, subscribe_due
from tests.handlers.test_digest import run
from tests.services.test_connections import answer_of, post

SCOPES = ["oauth", "settings.users.read", "crm.objects.owners.read", "crm.objects.contacts.read"]
CHANNEL = "<#C0001|general>"
SLACK_ONLY = SLACK_ADMINS_ONLY.format(what="change who is a Quolum admin")
SEATS = ADMINS_ONLY.format(what=seats.WHAT)

# (what is typed after /quolum, the refusal a member gets, or None: anyone may)
REQUESTS = [
    ("alerts", None),
    ("alerts bogus", None),  # a usage mistake is answered to anyone
    (f"alerts {CHANNEL}", ADMINS_ONLY.format(what="choose where alerts go")),
    ("alerts off", ADMINS_ONLY.format(what="choose where alerts go")),
    ("disconnect", None),
    ("disconnect nosuchapp", None),
    ("disconnect hubspot", ADMINS_ONLY.format(what="disconnect accounts")),
    ("admins", None),
    ("admins list", None),
    ("admins add", None),
    ("admins add <@U0003>", SLACK_ONLY),
    ("admins remove <@U0003>", SLACK_ONLY),
    ("digest", None),
    ("digest list", None),
    ("digest preview", None),
    ("digest subscribe", ADMINS_ONLY.format(what="subscribe channels to digests")),
    (f"digest subscribe {CHANNEL} monthly", ADMINS_ONLY.format(what="subscribe channels to digests")),
    ("digest unsubscribe", ADMINS_ONLY.format(what="unsubscribe channels from digests")),
    ("digest tz Europe/Paris", ADMINS_ONLY.format(what="change digests")),
    ("digest send", ADMINS_ONLY.format(what="post digests")),
    ("price", None),
    ("price hubspot", None),
    ("price hubspot lots", None),
    ("price hubspot 90 EUR", ADMINS_ONLY.format(what="set seat prices")),
    ("price sendgrid 12.5", ADMINS_ONLY.format(what="set seat prices")),
    ("connect", None),
    ("connect hubspot", None),
    ("status", None),
    ("invite", None),
    ("help", None),
    ("seats", SEATS),
    ("seats hubspot", SEATS),
    ("seats exempt ada@example.com", SEATS),
    ("seats link <@U0002> ada", SEATS),
    ("seats on-release hubspot on", SEATS),
    ("seats settings keep 30", SEATS),
    ("savings", None),
    ("contract", ADMINS_ONLY.format(what="set contracts")),
    ("contract hubspot", ADMINS_ONLY.format(what="set contracts")),
]
ADMIN_ONLY = [(text, refusal) for text, refusal in REQUESTS if refusal]


@pytest.mark.parametrize("text,refusal", REQUESTS, ids=[text for text, _ in REQUESTS])
def test_the_table_says_which_requests_need_an_admin(text, refusal):
    cmd, args = commands.parse(text)
    assert cmd.admins_only(args, INSTALLED) == (refusal is not None)
    if refusal:
        assert cmd.refusal() == refusal


def test_every_command_is_in_the_table():
    tried = {commands.parse(text)[0].name for text, _ in REQUESTS}
    assert tried == {cmd.name for cmd in COMMANDS.values()}


def test_an_admins_only_command_must_say_what_members_may_not_do():
    with pytest.raises(ValueError, match="says what members may not do"):
        commands.command("frobnicate", "frobnicate", "", admins_only=True)


@pytest.fixture
async def bot(serve, hub_settings, storage, slack, hubspot):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    slack.add_user("U0002")  # a member
    slack.add_user("U0003")  # a member made a Quolum admin: Slack admins only may change that
    slack.add_channel("C0001", "general", member=True)
    await connect_hubspot(storage, hubspot, 101, SCOPES)
    await storage.admins.grant("T0001", "U0003", "U0001")
    await storage.alert_routes.set("T0001", "C0001", "U0001")
    await storage.digests.set_price("T0001", "hubspot", 5000, "USD", "U0001")
    return serve(hub_settings)


async def state(storage) -> tuple:
    connection = await storage.connections.get("T0001", "hubspot")
    subs = await storage.digests.for_team("T0001")
    return (
        await storage.admins.list("T0001"),
        (connection.status, connection.credentials),
        [(s.channel_id, s.timezone, s.cadence, s.last_sent_at) for s in subs],
        await storage.digests.prices("T0001"),
        await storage.alert_routes.get("T0001"),
        {p: (i.id, i.resolved_at) for p, i in (await storage.incidents.open_in_team("T0001")).items()},
        await storage.seats.latest_asks("T0001"),
        await storage.seats.latest_reclaims("T0001"),
        await storage.seats.exemptions("T0001"),
        await storage.seats.links("T0001"),
        await storage.seats.policy("T0001"),
    )


async def test_a_member_is_refused_every_admin_only_command_and_nothing_changes(bot, slack, storage):

    await subscribe_due(storage, "T0001", "C0001", Schedule(WEEKLY, 0, "09:00", "UTC"), storage.clock())
    before = await state(storage)
    for text, refusal in ADMIN_ONLY:
        user = "U0003" if refusal == SLACK_ONLY else "U0002"  # a Quolum admin may not make others
        assert (await run(bot, slack, text, user=user))["text"] == refusal, text
    assert slack.posts_to("C0001") == []  # no digest sent
    assert await state(storage) == before


async def click(bot, slack, action_id: str, value: str, element: str = "button") -> str:
    hook = slack.response_url()
    response = post(
        bot, sr.action(action_id, value=value, user_id="U0002", response_url=hook, element=element)
    )
    assert response.status_code == 200
    return (await answer_of(slack, hook))["text"]


async def test_a_member_is_refused_every_button_that_changes_something(bot, slack, storage):
    connection = await storage.connections.get("T0001", "hubspot")
    incident, _ = await storage.incidents.open(
        connection_id=connection.id,
        team_id="T0001",
        provider="hubspot",
        kind="revoked",
        reason="the app was uninstalled",
        feature=None,
        failing_since=storage.clock(),
    )
    before = await state(storage)
    clicks = [
        (f"{DISCONNECT_ACTION}:hubspot", "hubspot", "button", ADMINS_ONLY.format(what="disconnect accounts")),
        (db.DIGEST_RECONNECT_ACTION, "hubspot", "button", ADMINS_ONLY.format(what="reconnect accounts")),
        (
            db.SUBSCRIBE_PICK_ACTION,
            "C0001",
            "conversations_select",
            ADMINS_ONLY.format(what="subscribe channels to digests"),
        ),
        (
            am.ALERT_RECONNECT_ACTION,
            str(incident.id),
            "button",
            am.NOT_ALLOWED.format(provider="HubSpot", key="hubspot"),
        ),
    ]
    clicks += [
        (action, str(connection.id), "button", SEATS)
        for action in (sm.ASK, sm.RECLAIM, sm.ENABLE, sm.UNDO, sm.REVIEW)
    ]
    for action_id, value, element, refusal in clicks:
        assert await click(bot, slack, action_id, value, element) == refusal, action_id
    assert not slack.calls_to("views.open")
    assert await state(storage) == before
