"""Issue 23's checks end to end through the real server and the HubSpot stand-in (not a test-only
provider): Ada asks three idle seat holders; Casey keeps (with a reason), Max releases, Robin never
answers — reminders after 3 and 7 days, then *no answer*, on the moved clock, each once however often
the job runs; with read permissions only, reclaiming offers *Enable reclaiming* and changes nothing;
after HubSpot's consent with the write scope, Max's seat is reclaimed once; the next digest counts one
paid seat fewer, names Casey as keeping hers and says what was saved; Undo gives the seat back once.
The whole run is logged at DEBUG through the production formatter, and no line holds a token, a
secret or what Casey wrote."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta

import pytest

from core.logs import setup_logging
from messages import seats as sm
from sandbox.clock import until
from sandbox.environment import SandboxEnv
from sandbox.steps import (
    admin_connects_hubspot,
    admin_opens_card,
    admin_subscribes_channel,
    scheduled_digest_posted,
)
from sandbox.story import Story, buttons, sections, slash
from sandbox.workspace import (
    ADA,
    HUBSPOT_CLIENT_SECRET,
    MAX,
    MAX_HUBSPOT_ID,
    PORTAL_DOMAIN,
    PORTAL_ID,
    SAAS_USAGE,
    TEAM_ID,
    Person,
)

CASEY = Person("UCASEY004", "Casey", "member", {})
ROBIN = Person("UROBIN005", "Robin", "member", {})
EMAILS = ((CASEY, f"casey.contractor@{PORTAL_DOMAIN}"), (ROBIN, f"robin.temp@{PORTAL_DOMAIN}"))
REASON = "I run the quarterly board pipeline report from it"


@pytest.fixture
def logged():
    """Everything the bot logs, at DEBUG, as the production formatter writes it (redaction included)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


@pytest.fixture
def story(logged):
    with SandboxEnv() as env:
        for person, email in EMAILS:
            env.slack.add_user(
                person.user_id,
                TEAM_ID,
                name=person.name.lower(),
                real_name=person.name,
                profile={"email": email},
            )
        story = Story(env)
        for step in (
            admin_opens_card,
            admin_connects_hubspot,
            admin_subscribes_channel,
            scheduled_digest_posted,
        ):
            step(story)
        yield story


def dm(env: SandboxEnv, person: Person) -> list[dict]:
    return env.slack.messages_in(person.user_id)


def pick(message: dict, *names: str) -> tuple[str, dict]:
    """The connection id behind the seats list, and the state of choosing `names` in it."""
    [block] = [b for b in message["blocks"] if b.get("block_id", "").startswith(sm.BLOCK_PREFIX)]
    [chooser] = [e for e in block["elements"] if e["action_id"] == sm.PICK]
    chosen = [o for o in chooser["options"] if o["text"]["text"].split()[0] in names]
    assert len(chosen) == len(names), [o["text"]["text"] for o in chooser["options"]]
    state = {
        "values": {block["block_id"]: {sm.PICK: {"type": "multi_static_select", "selected_options": chosen}}}
    }
    return block["block_id"].removeprefix(sm.BLOCK_PREFIX), state


def ask_of(env: SandboxEnv, person: Person) -> str:
    [ask] = [m for m in dm(env, person) if sm.RELEASE_ACTION in buttons(m)]
    return buttons(ask)[sm.RELEASE_ACTION]["value"]


def test_ask_three_keep_release_silence_reclaim_once_digest_and_undo(story, logged):
    env = story.env
    slash(story, ADA, "price hubspot 50 USD")
    member_view = slash(story, MAX, "seats")
    assert sm.PICK not in str(member_view) and "admins" in member_view["text"]  # a member sees nothing

    connection, state = pick(slash(story, ADA, "seats hubspot"), "Max", "Casey", "Robin")
    asked = env.response(env.click(ADA, sm.ASK, connection, state=state))
    assert asked["text"].startswith("Asked 3:")
    asks = {p.name: until(lambda p=p: dm(env, p) and ask_of(env, p)) for p in (MAX, CASEY, ROBIN)}
    env.response(env.click(ADA, sm.ASK, connection, state=state))  # a second click asks nobody again
    assert [len(dm(env, p)) for p in (MAX, CASEY, ROBIN)] == [1, 1, 1]

    # Casey keeps, with a reason; Max releases; Robin is silent. Nobody answers for someone else.
    assert env.response(env.click(MAX, sm.RELEASE_ACTION, asks["Casey"]))["text"] == sm.NOT_YOURS
    mark = env.mark()
    env.click(CASEY, sm.KEEP_ACTION, asks["Casey"])
    modal = until(lambda: env.calls_after("views.open", mark))[-1].args["view"]
    values = {sm.REASON_BLOCK: {sm.REASON_INPUT: {"type": "plain_text_input", "value": REASON}}}
    assert env.submit_view(CASEY, {**modal, "id": "VKEEP0001"}, values).status_code == 200
    env.click(MAX, sm.RELEASE_ACTION, asks["Max"])
    until(lambda: "1 keep, 1 release" in (dm(env, ADA)[-1].get("text") or ""))
    summaries = [m for m in dm(env, ADA) if "about their idle seats" in (m.get("text") or "")]
    assert len(summaries) == 1  # one summary, updated in place

    # Reclaiming with read permissions only: Enable reclaiming is offered, a forced Reclaim changes nothing
    view = slash(story, ADA, "seats hubspot")
    assert sm.ENABLE in buttons(view) and sm.RECLAIM not in buttons(view)
    _, just_max = pick(view, "Max")
    refusal = env.response(env.click(ADA, sm.RECLAIM, connection, state=just_max))
    assert "Enable reclaiming" in refusal["text"] and env.hubspot.seat_writes == []

    enable = env.response(env.click(ADA, sm.ENABLE, connection))
    consent, page = env.follow_connect_link(re.search(r"<(http[^|>]+)\|", enable["text"]).group(1))
    assert "settings.users.write" in consent and page.status_code == 200

    mark = env.mark()
    env.click(ADA, sm.RECLAIM, connection, state=just_max)
    confirm = until(lambda: env.calls_after("views.open", mark))[-1].args["view"]
    assert "Saves $600 a year." in str(confirm["blocks"])
    for _ in range(2):  # a double submit reaches HubSpot once
        env.submit_view(ADA, {**confirm, "id": "VRECLAIM1"}, {})
    updates = lambda: [c.args["view"] for c in env.calls_after("views.update", mark)]  # noqa: E731
    result = until(lambda: [v for v in updates() if sm.UNDO in buttons(v)])[-1]
    assert all(sm.UNDO in buttons(v) for v in updates())  # the second submit hid no Undo
    writes = [w for w in env.hubspot.seat_writes if str(w["user_id"]) == str(MAX_HUBSPOT_ID)]
    assert len(writes) == 1 and writes[0]["seats_after"] == []

    # Robin: reminded after 3 and 7 days, then no answer — each once however often the job runs
    start = env.clock()
    for days, asked in ((3, 2), (7, 3), (10, 3)):
        at = start + timedelta(days=days, hours=1)  # the hourly job runs at the hour
        for run in (at, at + timedelta(hours=1)):  # two hourly runs: the second finds nothing more due
            env.clock.move_to(run)
            assert env.run_job("seat_reminders", now=run)
        in_robins_dm = [m for m in env.slack.all_messages() if m["channel"] == "D" + ROBIN.user_id[1:]]
        assert (
            len([m for m in in_robins_dm if sm.RELEASE_ACTION in buttons(m)]) == asked
        )  # reminders in thread
    [summary] = [m for m in dm(env, ADA) if "about their idle seats" in (m.get("text") or "")]
    assert "1 keep, 1 release, 1 no answer, 0 waiting" in summary["text"]
    assert [len(dm(env, p)) for p in (MAX, CASEY)] == [1, 1]  # the answered were not reminded

    # the weekly digest (due meanwhile): one paid seat fewer, Casey keeping hers, the saving
    env.run_job("digests", now=story.facts["next_send"] + timedelta(days=7))
    first, digest = until(lambda: env.slack.messages_in(SAAS_USAGE)[1:] and env.slack.messages_in(SAAS_USAGE))
    assert int(sections(digest)["HubSpot"]["Paid seats"]) == int(sections(first)["HubSpot"]["Paid seats"]) - 1
    text = json.dumps(digest)
    assert "Saved $600 a year since" in text and "kept by its holder until" in text
    assert "max@" not in text and MAX.user_id not in text  # Max is no idle seat any more

    # Undo, from the result dialog: the seat comes back once, and the saving goes
    undo = buttons(result)[sm.UNDO]
    mark = env.mark()
    env.click(ADA, sm.UNDO, undo["value"], view={**result, "id": "VRECLAIM1"})
    env.click(ADA, sm.UNDO, undo["value"], view={**result, "id": "VRECLAIM1"})
    until(lambda: len(env.calls_after("views.update", mark)) >= 2)
    writes = [w for w in env.hubspot.seat_writes if str(w["user_id"]) == str(MAX_HUBSPOT_ID)]
    assert len(writes) == 2 and writes[1]["seats_after"]
    max_user = next(u for u in env.hubspot.portals[PORTAL_ID].users if u.id == MAX_HUBSPOT_ID)
    assert max_user.seat_names
    assert "$600" not in slash(story, ADA, "savings")["text"]

    # Nothing secret, and nothing Casey wrote, in any log line
    lines = logged.getvalue()
    for seen in ('"action": "seats_reclaim_confirm"', '"action": "seat_release"', '"action": "seats_undo"'):
        assert seen in lines  # the run was logged, every click
    secrets = [
        env.signing_secret,
        env.slack.client_secret,
        env.slack.workspaces[TEAM_ID].bot_token,
        HUBSPOT_CLIENT_SECRET,
        REASON,
        *env.bot_settings.encryption_keys,
        *env.hubspot.tokens.access_tokens,  # every access token HubSpot issued in the run
        *env.hubspot.tokens.connections,  # and refresh token
        *env.hubspot.tokens.codes,  # and authorization code
    ]
    leaked = [s for s in secrets if s and s in lines]
    assert leaked == []
