"""Slack seats' hooks against the stand-in: connecting with the bot token (good, revoked, without
`users:read`), Connect Slack billing (the consent URL, the code exchange, the workspace it reaches),
the hourly check (revoked, scope lost), and deactivating an idle member through SCIM."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from core.reports import InactiveSeat
from core.seats import SeatOutcome
from providers.errors import MissingScopes, Unauthorized
from providers.http import Bearer
from providers.plugin import BEARER
from providers.slack_seats.client import NO_USERS_READ, PROTECTED_ADMIN, failure_sentence, verify_failure
from providers.slack_seats.usage import NEEDS_ADMIN
from tests.providers import slack_seats_rig
from tests.providers.slack_seats_rig import ADMIN_USER, TEAM, make_slack

BOT_SCOPES_WITHOUT_USERS_READ = "commands,chat:write,im:write"

served, http = slack_seats_rig.served, slack_seats_rig.http  # the rig's fixtures


@pytest.fixture
def slack(served):
    return make_slack(*served, n_users=60)


# --- connecting with the bot token ----------------------------------------------------------------
async def test_the_bot_token_connects_and_says_billing_needs_an_admin(slack, http):
    verified = await slack.hooks(http).verify_form({"bot_token": slack.ws.bot_token})
    assert (verified.account_id, verified.account_name) == (TEAM, "Acme")
    assert verified.missing == () and "users:read" in verified.scopes and "admin" not in verified.scopes
    assert verified.missing_sentence == NEEDS_ADMIN
    assert verified.credentials == {BEARER: slack.ws.bot_token}
    assert slack.ws.bot_token not in repr(verified)


async def test_a_bot_token_without_users_read_is_saved_with_one_sentence_naming_it(slack, http):
    slack.ws.scopes = BOT_SCOPES_WITHOUT_USERS_READ
    verified = await slack.hooks(http).verify_form({"bot_token": slack.ws.bot_token})
    assert verified.missing == ("users:read",)
    assert verified.missing_sentence == NO_USERS_READ and "`users:read`" in NO_USERS_READ


async def test_a_revoked_bot_token_is_rejected_in_one_sentence(slack, http):
    slack.standin.revoke(slack.ws.bot_token)
    with pytest.raises(Unauthorized) as raised:
        await slack.hooks(http).verify_form({"bot_token": slack.ws.bot_token})
    assert verify_failure(raised.value) == "rejected"
    assert failure_sentence(raised.value).startswith("Slack did not accept the bot token (token_revoked)")


def test_an_empty_bot_token_is_a_problem_before_asking_slack(slack):
    hooks = slack.hooks(httpx.AsyncClient())
    assert hooks.problem("bot_token", "") and hooks.problem("bot_token", "xoxb-1") is None


# --- Connect Slack billing ------------------------------------------------------------------------
async def test_connect_slack_billing_asks_for_the_admin_user_scope_and_stores_the_user_token(slack, http):
    hooks = slack.hooks(http)
    url = urlsplit(hooks.authorize_url("state-1"))
    query = parse_qs(url.query)
    assert url.path == "/oauth/v2/authorize" and query["user_scope"] == ["admin,users:read"]
    assert query["redirect_uri"] == ["http://localhost:3000/oauth/slack_seats/callback"]
    assert query["state"] == ["state-1"] and "scope" not in query
    tokens = await hooks.exchange(slack.standin.issue_user_code(TEAM, ADMIN_USER))
    assert tokens.access_token.startswith("xoxp-") and tokens.refresh_token is None  # no rotation
    assert tokens.credentials() == {"access_token": tokens.access_token, "refresh_token": None}
    account = await hooks.account(tokens.access_token)
    assert account.account_id == TEAM and set(account.scopes) == {"admin", "users:read"}
    assert account.details["billing_admin"] == ADMIN_USER


async def test_a_refused_code_is_a_bad_code(slack, http):
    hooks = slack.hooks(http)
    with pytest.raises(Exception) as raised:
        await hooks.exchange("no-such-code")
    assert hooks.classify(raised.value, "exchange").kind == "bad_code"


# --- the hourly check -------------------------------------------------------------------------------
async def test_the_check_passes_then_a_revoked_admin_token_is_revoked(slack, http):
    hooks, token = slack.hooks(http), slack.admin_token()
    connection = slack.connection(token, scopes=("admin", "users:read"))
    checked = await hooks.check(connection, Bearer(token), slack.clock())
    assert checked.failure is None and "admin" in checked.scopes
    slack.standin.revoke(token)
    checked = await hooks.check(connection, Bearer(token), slack.clock())
    assert checked.failure.kind == "revoked" and checked.failure.code == "token_revoked"


async def test_an_admin_token_that_lost_the_admin_scope_is_scope_lost_named(slack, http):
    hooks = slack.hooks(http)
    token = slack.standin.grant_user_token(TEAM, ADMIN_USER, scopes=("users:read",))
    checked = await hooks.check(
        slack.connection(token, scopes=("admin", "users:read")), Bearer(token), slack.clock()
    )
    assert checked.failure.kind == "scope_lost" and checked.failure.feature == "admin"
    assert checked.unavailable == ("admin",)


# --- deactivating through SCIM ----------------------------------------------------------------------
def idle_member(slack, **flags) -> InactiveSeat:
    user = next(
        u
        for u in slack.standin.users.values()
        if u["team_id"] == TEAM
        and not u.get("deleted")
        and not u.get("is_bot")
        and not u.get("is_admin")
        and not u.get("is_restricted")
        and u["id"] != "USLACKBOT"
    )
    return InactiveSeat(
        user_id=user["id"], email=user["profile"]["email"], last_active=None, name=user["real_name"], **flags
    )


async def test_reclaim_deactivates_through_scim_once(slack, http):
    hooks, token = slack.hooks(http), slack.admin_token()
    connection = slack.connection(token, scopes=("admin", "users:read"), billing_admin=ADMIN_USER)
    seat = idle_member(slack)
    result = await hooks.reclaim(connection, Bearer(token), seat)
    assert result.outcome is SeatOutcome.DONE and result.answer == "204"
    assert slack.standin.scim_deletes == [seat.user_id]
    assert slack.standin.users[seat.user_id]["deleted"] is True
    again = await hooks.reclaim(connection, Bearer(token), seat)
    assert again.outcome is SeatOutcome.GONE and slack.standin.scim_deletes == [seat.user_id]
    report = await slack.collect(hooks, token, ("admin", "users:read"))
    assert seat.user_id not in {s.user_id for s in report.seats.inactive_paid_users}


async def test_a_plan_without_scim_answers_not_supported_with_the_admin_page(served, http):
    slack = make_slack(*served, n_users=40, plan="pro")
    hooks, token = slack.hooks(http), slack.admin_token()
    result = await hooks.reclaim(
        slack.connection(token, scopes=("admin",)), Bearer(token), idle_member(slack)
    )
    assert result.outcome is SeatOutcome.NOT_SUPPORTED and "https://slack.com/admin" in result.sentence
    assert slack.standin.scim_deletes == []


async def test_owners_admins_and_the_granter_are_never_deactivated_and_no_call_is_made(slack, http):
    hooks, token = slack.hooks(http), slack.admin_token()
    connection = slack.connection(token, scopes=("admin",), billing_admin=ADMIN_USER)
    admin_seat = InactiveSeat(user_id="U000100009", email=None, last_active=None, admin=True)
    granter = InactiveSeat(user_id=ADMIN_USER, email=None, last_active=None)
    assert hooks.protected(connection, admin_seat) == PROTECTED_ADMIN
    connector = replace(connection, connected_by="U000100007")
    assert hooks.protected(connector, InactiveSeat(user_id="U000100007", email=None, last_active=None))
    for seat in (admin_seat, granter):
        assert (await hooks.reclaim(connection, Bearer(token), seat)).outcome is SeatOutcome.REFUSED
    assert slack.standin.scim_deletes == []


async def test_without_the_admin_grant_reclaiming_asks_for_it(slack, http):
    hooks = slack.hooks(http)
    connection = slack.connection(slack.ws.bot_token, scopes=("users:read",))
    result = await hooks.reclaim(connection, Bearer(slack.ws.bot_token), idle_member(slack))
    assert result.outcome is SeatOutcome.MISSING_SCOPE and slack.standin.scim_deletes == []


async def test_the_access_check_names_a_missing_users_read(slack, http):
    slack.ws.scopes = BOT_SCOPES_WITHOUT_USERS_READ
    assert await slack.hooks(http).access({BEARER: slack.ws.bot_token}, TEAM) == ["users:read"]


def test_missing_scope_is_raised_as_missing_scopes_naming_the_scope():
    from providers.slack_seats.api import error_of

    error = error_of({"ok": False, "error": "missing_scope", "needed": "admin"}, "team.accessLogs")
    assert isinstance(error, MissingScopes) and error.sub_category == "admin"
