"""Property-based tests against the real server: signed slash commands, interactions, event envelopes
and modal submissions, and browser callbacks with arbitrary query strings.

For every example: no answer >= 500, no traceback in any answer, no exception of ours in the logs
(Slack API refusals aside: the fuzzed ids are not people the Slack stand-in knows), and no table
changed but the ones the request may change. A bounded number of examples keeps it CI-sized.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from messages import invite_blocks as ib
from sandbox import sendgrid_modal as modal
from sandbox import slack_requests as sr
from storage.models import Base
from tests.conftest import install

EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI is repeatable, a failure reproducible
)
MEMBER = "U0002"  # a member, not an admin: fuzzed commands cannot grant or connect anything
DELETE = object()

# --- strategies ----------------------------------------------------------------------------------------
slack_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from("<>&|@!`*_~#:=%+\n"),
    max_size=120,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | slack_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
WORDS = ["help", "connect", "status", "invite", "disconnect", "admins add", "admins list", "digest", "list"]
command_text = st.one_of(
    slack_text,
    st.builds(
        lambda word, rest: f"{word} {rest}",
        st.sampled_from(WORDS),
        slack_text
        | st.sampled_from(["hubspot", "sendgrid", "<@U0003>", "<@U0003|dana> sendgrid", "<!channel>"]),
    ),
)
ACTION_IDS = [
    "connect_link:hubspot",
    "connect_modal:sendgrid",
    "disconnect:sendgrid",
    "disconnect:hubspot",
    ib.INVITE_CONNECT,
    ib.INVITE_DECLINE,
    ib.INVITE_REMIND,
    "unknown_action",
]
EVENT_TYPES = ["app_home_opened", "message", "reaction_added", "app_mention", "team_join", "x"]


def mutated(base: dict, keys: list[str]):
    """`base` with some of `keys` replaced by arbitrary JSON or removed."""
    return st.dictionaries(st.sampled_from(keys), json_values | st.just(DELETE), max_size=3).map(
        lambda changes: {k: v for k, v in {**base, **changes}.items() if v is not DELETE}
    )


# --- the server and its tables ---------------------------------------------------------------------------
@pytest.fixture
async def bot(serve, hub_settings, storage, slack):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    slack.add_user(MEMBER)
    slack.add_user("U0003")
    return serve(hub_settings)


class Watch:
    """Errors logged by the server's threads while an example runs."""

    def __init__(self) -> None:
        self.handler = logging.Handler(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.handler.emit = self.records.append

    def __enter__(self):
        logging.getLogger().addHandler(self.handler)
        return self

    def __exit__(self, *exc):
        logging.getLogger().removeHandler(self.handler)

    def ours(self) -> list[str]:
        return [
            f"{r.name}: {r.getMessage()} {r.exc_info[1]!r}"
            for r in self.records
            if r.exc_info and not isinstance(r.exc_info[1], SlackApiError)
        ]


async def snapshot(storage) -> dict[str, list]:
    tables = {}
    async with storage.db.session() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            tables[table.name] = sorted(map(repr, rows))
    return tables


async def check(storage, before: dict, response: httpx.Response, allowed: set[str], watch: Watch) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert "Traceback" not in response.text and "Exception" not in response.text
    after = await snapshot(storage)
    changed = {name for name in after if after[name] != before[name]}
    assert changed <= allowed, changed
    assert watch.ours() == []


async def signed(bot, storage, body: str, content_type: str, allowed: set[str]) -> None:
    before = await snapshot(storage)
    with Watch() as watch:
        response = httpx.post(
            f"{bot.url}/slack/events",
            content=body.encode(),
            headers=sr.signed_headers(body, content_type=content_type),
            timeout=10,
        )
        await _settle()
    await check(storage, before, response, allowed, watch)


async def _settle() -> None:
    """Work continues after the ack (answers through response_url): let it finish within the example."""
    await asyncio.sleep(0.02)


# --- the properties -------------------------------------------------------------------------------------
@EXAMPLES
@given(text=command_text, channel=slack_text, domain=slack_text, name=slack_text)
async def test_fuzzed_slash_commands(bot, storage, slack, text, channel, domain, name):
    fields = {
        **sr.command_fields(text, user_id=MEMBER, response_url=slack.response_url()),
        "channel_name": channel,
        "team_domain": domain,
        "user_name": name,
    }
    # a member may invite (those two tables), nothing else
    await signed(
        bot,
        storage,
        urlencode(fields),
        "application/x-www-form-urlencoded",
        {"invitations", "invitation_senders"},
    )


def _action_payload(slack_url: str) -> dict:
    return json.loads(parse_qs(sr.action("x", user_id=MEMBER, response_url=slack_url))["payload"][0])


@EXAMPLES
@given(data=st.data(), action_id=st.sampled_from(ACTION_IDS), value=slack_text)
async def test_fuzzed_interactions(bot, storage, slack, data, action_id, value):
    base = _action_payload(slack.response_url())
    base["actions"][0].update(action_id=action_id, value=value)
    payload = data.draw(
        mutated(base, ["actions", "team", "user", "channel", "type", "trigger_id", "container"])
    )
    payload["response_url"] = base["response_url"]  # answers only ever go to the stand-in
    await signed(
        bot, storage, urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", set()
    )


@EXAMPLES
@given(
    data=st.data(),
    event_type=st.sampled_from(EVENT_TYPES),
    event_id=st.text(min_size=1, max_size=90) | st.integers(),
)
async def test_fuzzed_event_envelopes(bot, storage, data, event_type, event_id):
    event = data.draw(
        mutated(
            {"type": event_type, "user": MEMBER, "tab": "home"}, ["user", "tab", "item", "channel", "type"]
        )
    )
    envelope = json.loads(sr.event(event))
    envelope["event_id"] = event_id
    envelope = data.draw(mutated(envelope, ["team_id", "event", "authorizations", "api_app_id", "type"]))
    if isinstance(envelope.get("event"), dict) and envelope["event"].get("type") in (
        "app_uninstalled",
        "tokens_revoked",
    ):
        envelope["event"]["type"] = "x"  # those delete the workspace: tested on their own
    await signed(bot, storage, json.dumps(envelope), "application/json", {"slack_events"})


@EXAMPLES
@given(
    data=st.data(),
    metadata=slack_text | json_values.map(json.dumps),
    key=slack_text
    | st.sampled_from(["SG.aaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]),
    callback=st.sampled_from([modal.CALLBACK_ID, "other"]),
)
async def test_fuzzed_modal_submissions(bot, storage, data, metadata, key, callback):
    from services.credential_connect import ModalContext
    from tests.services.test_credential_connect import submission

    view = modal.connect_modal(ModalContext("T0001", MEMBER))
    payload = json.loads(parse_qs(submission(view, key, user_id=MEMBER))["payload"][0])
    payload["view"].update(private_metadata=metadata, callback_id=callback)
    payload["view"] = data.draw(mutated(payload["view"], ["state", "private_metadata", "id", "callback_id"]))
    payload = data.draw(mutated(payload, ["team", "user", "view", "type"]))
    await signed(
        bot, storage, urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", set()
    )


@EXAMPLES
@given(
    path=st.sampled_from(
        [
            "/oauth/hubspot/callback",
            "/oauth/hubspot/start",
            "/oauth/sendgrid/callback",
            "/oauth/x/start",
            "/slack/oauth_redirect",
            "/slack/install",
        ]
    ),
    query=st.dictionaries(
        st.sampled_from(["state", "code", "error", "error_description", "x"]) | st.text(max_size=10),
        slack_text,
        max_size=4,
    ),
    cookie=st.none()
    | st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=';,"\\'), max_size=60),
)
async def test_fuzzed_browser_callbacks(bot, storage, path, query, cookie):
    before = await snapshot(storage)
    cookies = {"quolum_connect": cookie, "slack-app-oauth-state": cookie} if cookie else {}
    with Watch() as watch, httpx.Client(cookies=cookies) as client:
        response = client.get(f"{bot.url}{path}", params=query, timeout=10)
    await check(storage, before, response, set(), watch)
