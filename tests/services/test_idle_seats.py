"""Acting on idle seats end to end (issue 23), through the real app and a provider that lives only in
tests (Seatly, tests/plugin_provider/, whose stand-in logs every write): an admin reviews the idle
seats, asks three people; one keeps, one releases, one never answers (reminders at 3 and 7 days, then
*no answer*, on a moved clock); the released seat is reclaimed once; the next collection counts one
idle seat fewer and the ledger shows the saving. Exactly once: two replicas and repeated clicks make
one DM per ask and one provider call per reclaim."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

import tests.plugin_provider as seatly
from core.seats import Policy
from handlers import seats as hs
from messages import seats as sm
from providers.registry import Installed, Registry, discover
from sandbox import slack_requests as sr
from sandbox.standins.server import serve_in_thread
from services.seat_asks import ASK_EVENT, REMIND_EVENT, reminder_due
from storage.contracts import Settings
from tests.conftest import install
from tests.handlers.test_digest import run
from tests.plugin_provider.standin import TOKEN, WRITE_TOKEN, SeatlyStandIn
from tests.services.test_alerts import replica
from tests.services.test_connections import post
from tests.services.test_invites import until

PEOPLE = [("ana", True), ("bo", False), ("cy", False), ("di", False), ("ed", False)]
MEMBERS = {"U0002": "bo", "U0003": "cy", "U0004": "di", "U0005": "ed"}


@pytest.fixture
def standin():
    standin = SeatlyStandIn(PEOPLE, admins={"ed"})
    with serve_in_thread(standin.app) as server:
        standin.url = server.url
        yield standin


@pytest.fixture
def installed():
    return Registry([*discover(), Installed.of(seatly)])


async def connect(storage, token: str) -> int:
    saved = await storage.connections.save_connected(
        team_id="T0001",
        provider="seatly",
        account_id="ws-7",
        account_name="Acme on Seatly",
        credentials={"api_key": token},
        connected_by="U0001",
        scopes=["seats.read", "seats.write"] if token == WRITE_TOKEN else ["seats.read"],
        details={},
    )
    return saved.record.id


@pytest.fixture
async def bot(serve, hub_settings, storage, slack, standin, installed):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    for user, name in MEMBERS.items():
        slack.add_user(user, profile={"email": f"{name}@acme.example", "display_name": name})
    slack.add_user("U0009")  # a member without a seat
    await storage.digests.set_price("T0001", "seatly", 5000, "USD", "U0001")
    settings = hub_settings.with_overrides(seatly_api_url=standin.url)
    server = serve(settings, providers=installed)
    server.connection_id = await connect(storage, TOKEN)
    return server


@pytest.fixture
async def one(bot, database_url, clock, installed):
    async with replica(bot.settings, database_url, clock, "r1", installed) as services:
        yield services


def state(picked: list[str], connection_id: int) -> dict:
    options = [{"value": p, "text": {"type": "plain_text", "text": p}} for p in picked]
    block = {sm.PICK: {"type": "multi_static_select", "selected_options": options}}
    return {"state": {"values": {f"{sm.BLOCK_PREFIX}{connection_id}": block}}}


async def click(
    bot, slack, action: str, value: str, *, user="U0001", picked=None, team="T0001"
) -> dict | None:
    hook = slack.response_url()
    extra = state(picked, int(value)) if picked is not None else None
    body = sr.action(action, value=value, user_id=user, response_url=hook, extra=extra, team_id=team)
    assert post(bot, body).status_code == 200
    hook_id = hook.rsplit("/", 1)[1]
    try:
        return await until(
            lambda: next((r for r in slack.responses if r["hook"] == hook_id), None), timeout=5
        )
    except AssertionError:
        return None


def asks_sent(slack) -> list[dict]:
    return [
        c.args
        for c in slack.calls_to("chat.postMessage")
        if (c.args.get("metadata") or {}).get("event_type") in (ASK_EVENT, REMIND_EVENT)
    ]


def dm(user: str) -> str:
    """The stand-in's DM channel with a member (conversations.open)."""
    return "D" + user[1:]


async def answered(storage, *users: str) -> dict:
    for _ in range(400):
        asks = {a.user_id: a for a in (await storage.seats.latest_asks("T0001")).values()}
        if all(asks[u].answer for u in users):
            return asks
        await asyncio.sleep(0.025)
    raise AssertionError(f"{users} never answered")


async def test_ask_three_people_keep_release_no_answer_reclaim_once_and_count_the_saving(
    bot, slack, standin, storage, one
):
    await one.usage.collect(team_id="T0001")
    cid = bot.connection_id

    # the admin sees the idle seats: members by mention, the provider's admin protected, the price
    view = await run(bot, slack, "seats")
    text = json.dumps(view)
    assert "<@U0002>" in text and "<@U0003>" in text and "<@U0004>" in text
    assert "is a Seatly admin" in text and "$50 a month" in text
    assert "Enable reclaiming" in text  # read-only so far

    # Ask bo, cy and di: one DM each, and one summary for the admin
    reply = await click(bot, slack, sm.ASK, str(cid), picked=["bo", "cy", "di"])
    assert reply["text"].startswith("Asked 3")
    assert len(asks_sent(slack)) == 3
    [summary] = [
        c for c in slack.calls_to("chat.postMessage") if "You asked 3 people" in c.args.get("text", "")
    ]

    # asking again within the cooldown asks nobody
    again = await click(bot, slack, sm.ASK, str(cid), picked=["bo"])
    assert "already" in again["text"] and len(asks_sent(slack)) == 3

    # bo keeps, with a reason (the modal); cy releases; di never answers
    asks = {a.user_id: a for a in (await storage.seats.latest_asks("T0001")).values()}
    post(
        bot,
        sr.action(
            sm.KEEP_ACTION, value=str(asks["bo"].id), user_id="U0002", response_url=slack.response_url()
        ),
    )
    modal = (await until(lambda: slack.calls_to("views.open")))[-1].args["view"]
    values = {sm.REASON_BLOCK: {sm.REASON_INPUT: {"type": "plain_text_input", "value": "demo on Friday"}}}
    post(bot, sr.view_submission(modal, values, team_id="T0001", user_id="U0002", view_id="VKEEP"))
    post(
        bot,
        sr.action(
            sm.RELEASE_ACTION, value=str(asks["cy"].id), user_id="U0003", response_url=slack.response_url()
        ),
    )
    done = await answered(storage, "bo", "cy")
    assert (done["bo"].answer, done["bo"].reason) == ("keep", "demo on Friday")
    assert done["cy"].answer == "release"

    # someone else cannot answer di's ask
    post(
        bot,
        sr.action(
            sm.RELEASE_ACTION, value=str(asks["di"].id), user_id="U0002", response_url=slack.response_url()
        ),
    )
    await asyncio.sleep(0.3)
    assert (await storage.seats.get_ask(asks["di"].id)).answer is None

    # di: reminders after 3 and 7 days, then no answer; each once however often the job runs
    start = asks["di"].asked_at
    for days, expected in (
        (1, {}),
        (3, {"reminded": 1}),
        (3, {}),
        (7, {"reminded": 1}),
        (9, {}),
        (10, {"no_answer": 1}),
    ):
        counts = await one.asks.remind(start + timedelta(days=days, minutes=1))
        assert {k: v for k, v in counts.items() if v} == expected, days
    assert len([a for a in asks_sent(slack) if a["metadata"]["event_type"] == REMIND_EVENT]) == 2
    assert (await storage.seats.get_ask(asks["di"].id)).answer == "none"
    updated = [
        c.args
        for c in slack.calls_to("chat.update")
        if c.args.get("ts") == summary.args.get("ts") or "You asked" in c.args.get("text", "")
    ]
    assert "1 keep, 1 release, 1 no answer, 0 waiting" in updated[-1]["text"]

    # reclaiming with read scopes only: one sentence, nothing changes
    refused = await click(bot, slack, sm.RECLAIM, str(cid), picked=["cy"])
    assert "may only read Seatly" in refused["text"] and standin.writes == []
    assert await storage.seats.latest_reclaims("T0001") == {}

    # a key with the write permission (Reconnect): Reclaim… opens the confirm dialog naming the saving
    await connect(storage, WRITE_TOKEN)
    before = len(slack.calls_to("views.open"))
    post(
        bot,
        sr.action(
            sm.RECLAIM,
            value=str(cid),
            user_id="U0001",
            extra=state(["cy"], cid),
            response_url=slack.response_url(),
        ),
    )
    confirm = (await until(lambda: slack.calls_to("views.open")[before:]))[0].args["view"]
    assert confirm["callback_id"] == sm.CONFIRM_MODAL and "$600 a year" in json.dumps(confirm)
    post(bot, sr.view_submission(confirm, {}, team_id="T0001", user_id="U0001", view_id="VCONFIRM"))
    await until(lambda: standin.writes, timeout=10)
    await until(
        lambda: any("Removed Cy" in json.dumps(c.args) for c in slack.calls_to("views.update")), timeout=10
    )
    assert standin.writes == [("DELETE", "cy")]

    # the next collection counts one idle seat fewer; the ledger has the saving
    before_idle = (await storage.snapshots.history("T0001", "seatly", 1))[0].seats.idle
    await one.usage.collect(team_id="T0001")
    assert (await storage.snapshots.history("T0001", "seatly", 1))[0].seats.idle == before_idle - 1
    assert (await run(bot, slack, "savings"))["text"].startswith("Saved $600 a year since")

    # the digest: the saving in its headline, bo's seat kept, a way in for admins
    digest = await one.digests.preview("T0001", "UTC")
    assert "Saved $600 a year since" in digest["text"]
    assert "kept by its holder until" in json.dumps(digest) and "Review idle seats" in json.dumps(digest)
    # App Home, for an admin: the ledger and the latest steps; a member sees no such section
    home = json.dumps(await one.home.view(await one.slack_clients("T0001"), "T0001", "U0001"))
    assert "Idle seats" in home and "Saved $600 a year" in home and "reclaim Cy" in home
    assert "Idle seats" not in json.dumps(
        await one.home.view(await one.slack_clients("T0001"), "T0001", "U0009")
    )

    # the audit has every step, with who and what
    actions = [e.action for e in await storage.seats.audit("T0001")]
    for expected in ("ask", "answer_keep", "answer_release", "remind", "no_answer", "reclaim"):
        assert expected in actions, expected
    assert actions.count("ask") == 3 and actions.count("remind") == 2 and actions.count("reclaim") == 1


async def test_two_replicas_and_repeated_clicks_ask_once_and_reclaim_once(
    bot, slack, standin, storage, database_url, clock, installed
):
    await connect(storage, WRITE_TOKEN)
    async with (
        replica(bot.settings, database_url, clock, "r1", installed) as one,
        replica(bot.settings, database_url, clock, "r2", installed) as two,
    ):
        await one.usage.collect(team_id="T0001")
        cid = bot.connection_id
        await asyncio.gather(*(s.asks.ask("T0001", "U0001", cid, ["bo", "di"]) for s in (one, two, one, two)))
        assert sorted(a["channel"] for a in asks_sent(slack)) == [dm("U0002"), dm("U0004")]
        runs = await asyncio.gather(
            *(s.reclaims.reclaim("T0001", "U0001", cid, ["bo"]) for s in (one, two, one, two))
        )
        assert standin.writes == [("DELETE", "bo")]
        assert sum(r.done for r in runs) == 1
        # and once more later: already reclaimed, no call
        later = await two.reclaims.reclaim("T0001", "U0001", cid, ["bo"])
        assert "already" in later.lines[0] and standin.writes == [("DELETE", "bo")]
        assert len(later.undo) == 1 and later.done == 0  # found reclaimed: its Undo is still offered
        # undo gives the seat back once; the ledger forgets it
        [reclaim] = [r for r in (await storage.seats.latest_reclaims("T0001")).values()]
        undone = await asyncio.gather(
            one.reclaims.undo("T0001", "U0001", reclaim.id), two.reclaims.undo("T0001", "U0001", reclaim.id)
        )
        assert sum("has the Seatly seat again" in u for u in undone) == 1
        assert standin.writes == [("DELETE", "bo"), ("POST", "bo")]
        assert (await one.reclaims.savings("T0001")).seats == 0


async def test_protected_and_exempt_seats_are_never_reclaimed(bot, slack, standin, storage, one):
    await connect(storage, WRITE_TOKEN)
    await one.usage.collect(team_id="T0001")
    reply = await run(bot, slack, "seats exempt di@acme.example")
    assert "exempt list" in reply["text"]
    run_ = await one.reclaims.reclaim("T0001", "U0001", bot.connection_id, ["ed", "di"])
    assert standin.writes == [] and run_.done == 0
    assert "Choose people" in run_.lines[0]  # neither may be chosen


async def test_a_click_from_another_workspace_does_nothing(bot, slack, standin, storage, one):
    await connect(storage, WRITE_TOKEN)
    await one.usage.collect(team_id="T0001")
    await one.asks.ask("T0001", "U0001", bot.connection_id, ["bo"])
    [ask] = (await storage.seats.latest_asks("T0001")).values()
    post(
        bot,
        sr.action(
            sm.RELEASE_ACTION,
            value=str(ask.id),
            user_id="U0002",
            team_id="T0OTHER",
            response_url=slack.response_url(),
        ),
    )
    post(
        bot,
        sr.action(
            sm.RECLAIM,
            value=str(bot.connection_id),
            user_id="U0001",
            team_id="T0OTHER",
            extra=state(["bo"], bot.connection_id),
            response_url=slack.response_url(),
        ),
    )
    await asyncio.sleep(0.5)
    assert (await storage.seats.get_ask(ask.id)).answer is None and standin.writes == []


POLICY = Policy(cooldown_days=30, reminder_days=(3, 7), keep_days=90)


@pytest.mark.parametrize(
    "sent,age_days,due",
    [
        (0, 0, None),
        (0, 2.9, None),
        (0, 3, 1),
        (0, 8, 1),  # late: one reminder at a time
        (1, 6, None),
        (1, 7, 2),
        (2, 9, None),
        (2, 10, "none"),
        (2, 40, "none"),
    ],
)
def test_reminder_due(sent, age_days, due):
    assert reminder_due(sent, timedelta(days=age_days), POLICY) == due


@pytest.mark.parametrize(
    "words,expected",
    [
        ("", POLICY),
        ("keep 30", Policy(30, (3, 7), 30)),
        ("cooldown 14 remind 2,5", Policy(14, (2, 5), 90)),
        ("remind 7,3,3", Policy(30, (3, 7), 90)),
        ("keep 0", hs.BAD_NUMBER.format(word="0")),
        ("keep soon", hs.BAD_NUMBER.format(word="soon")),
        ("remind 3,x", hs.BAD_NUMBER.format(word="3,x")),
        ("keep", hs.USAGE),
        ("forever 3", hs.USAGE),
    ],
)
def test_parse_settings(words, expected):
    assert hs.parse_settings(words.split(), POLICY) == expected


async def test_the_audit_command_prints_every_step(bot, slack, standin, storage, one, database_url):
    from tests.conftest import TEST_KEY
    from tests.test_cli import run as cli

    await connect(storage, WRITE_TOKEN)
    await one.usage.collect(team_id="T0001")
    await one.asks.ask("T0001", "U0001", bot.connection_id, ["bo"])
    await one.reclaims.reclaim("T0001", "U0001", bot.connection_id, ["cy"])
    env = {
        "QUOLUM_DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "QUOLUM_ENCRYPTION_KEYS": TEST_KEY,
    }
    result = await asyncio.to_thread(cli, "audit", "--team", "T0001", "--json", env=env)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["who"], r["action"], r["subject"]) for r in lines] == [
        ("U0001", "ask", "Bo <bo@acme.example>"),
        ("U0001", "reclaim", "Cy <cy@acme.example>"),
    ]
    assert lines[1]["detail"] == "204" and WRITE_TOKEN not in result.stdout
    table = await asyncio.to_thread(cli, "audit", "--team", "T0001", env=env)
    assert table.stdout.splitlines()[0].split() == ["at", "who", "action", "provider", "subject", "detail"]
    wrong = await asyncio.to_thread(cli, "audit", "--team", "T0001", "--since", "last week", env=env)
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "--since" in wrong.stderr


async def test_amounts_are_written_in_the_workspaces_locale(bot, slack, standin, storage, one):
    """The seats view, the ask DM's price and the savings ledger write money as the digest does: in
    the workspace's locale (`quolum-bot contracts settings`), not always en-US."""
    await storage.contracts.set_settings("T0001", Settings(locale="de-DE"), "U0001")
    await storage.digests.set_price("T0001", "seatly", 123456, "EUR", "U0001")
    await one.usage.collect(team_id="T0001")
    text = json.dumps(await run(bot, slack, "seats"), ensure_ascii=False)
    assert "€1.234,56 a month" in text and "1,234.56" not in text
    rows = [row for view in await one.seats.overview("T0001") for row in view.rows]
    assert rows and {row.locale for row in rows} == {"de-DE"}
    assert "€1.234,56" in json.dumps(sm.ask_dm(1, "Seatly", "Acme", rows[0]), ensure_ascii=False)
    assert sm.yearly_saving(rows[:1]) == "€14.814,72"
    assert (await one.reclaims.savings("T0001")).locale == "de-DE"


@pytest.mark.parametrize(
    ("locale", "line"),
    [
        ("en-US", "Saved €14,814.72 + $600 a year since"),
        ("de-DE", "Saved €14.814,72 + $600 a year since"),
    ],
)
def test_the_savings_line_is_written_in_the_ledgers_locale(locale, line):
    from datetime import UTC, datetime

    from core.seats import Savings

    savings = Savings(2, {"EUR": 1481472, "USD": 60000}, datetime(2026, 12, 1, tzinfo=UTC), 0, locale)
    assert sm.savings_line(savings).startswith(line)
