"""Slack's SCIM errors, as its SCIM reference gives them (the v2.0 example's body, ``{"schemas":
[...Error], "detail", "status"}``, with the error names of its *Errors* table), from the stand-in and
as the provider reads them: each failure of `DELETE /scim/v2/Users/{id}` is its
own outcome: a revoked token is refused, a plan without SCIM is *not supported* (the admin page's
link), a member already gone is *gone*, and a 403 that refuses this member or this token is *refused*
naming Slack's reason, never *not supported*."""

from __future__ import annotations

import httpx
import pytest

from core.reports import InactiveSeat
from core.seats import SeatOutcome
from providers.http import Bearer
from providers.slack_seats import scim
from providers.slack_seats.entry import ADMIN_PAGE
from providers.slack_seats.policy import POLICY
from tests.providers import slack_seats_rig
from tests.providers.slack_seats_rig import OWNER, TEAM, make_slack

served, http = slack_seats_rig.served, slack_seats_rig.http  # the rig's fixtures

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
# the error names Slack's SCIM reference lists (https://docs.slack.dev/reference/scim-api#errors), of
# those the stand-in answers: every name it answers must be one of them
REFERENCE_ERRORS = frozenset(
    {
        "missing_authentication",
        "invalid_authentication",
        "permission_denied",
        "plus_teams_only",
        "no_such_user",
        "cannot_disable_primary_owner",
    }
)
MEMBER = "U000100005"  # a plain member of the seed (n = 5: neither owner, admin nor guest with seed 7)


def situation(slack, case: str) -> tuple[str, str]:
    """(the token, the member) a case sends."""
    token = slack.admin_token()
    if case == "revoked":
        slack.standin.revoke(token)
    elif case == "no_admin_scope":
        token = slack.admin_token(scopes=("users:read",))
    elif case == "no_scim_plan":
        slack.standin.set_plan(TEAM, "pro")
    elif case == "already_deactivated":
        slack.standin.users[MEMBER]["deleted"] = True
    elif case == "unknown_member":
        return token, "U0NOBODY"
    elif case == "primary_owner":
        return token, OWNER
    return token, MEMBER


CASES = [
    # case, Slack's status and description, the seat's outcome, what the admin reads
    ("fine", 204, None, SeatOutcome.DONE, "Deactivated"),
    ("revoked", 401, "invalid_authentication", SeatOutcome.REFUSED, "token revoked"),
    ("no_admin_scope", 403, "permission_denied", SeatOutcome.REFUSED, "(permission_denied)"),
    ("no_scim_plan", 403, "plus_teams_only", SeatOutcome.NOT_SUPPORTED, ADMIN_PAGE),
    ("already_deactivated", 404, "no_such_user", SeatOutcome.GONE, "already deactivated"),
    ("unknown_member", 404, "no_such_user", SeatOutcome.GONE, "already deactivated"),
    ("primary_owner", 403, "cannot_disable_primary_owner", SeatOutcome.REFUSED, "(cannot_disable_primary_owner)"),
]  # fmt: skip


@pytest.mark.parametrize("case,status,description,outcome,says", CASES, ids=[c[0] for c in CASES])
async def test_each_scim_answer_and_what_it_becomes(served, http, case, status, description, outcome, says):
    slack = make_slack(*served, n_users=20)
    assert not slack.standin.users[MEMBER].get("is_admin") and not slack.standin.users[MEMBER]["deleted"]
    token, member = situation(slack, case)

    # the stand-in answers as Slack's SCIM reference says
    url = f"{slack.url}/scim/v2/Users/{member}"
    raw = httpx.delete(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert raw.status_code == status
    if description is None:
        assert raw.content == b""
        slack.standin.users[member]["deleted"] = False  # undo, so the provider's call does it again
        slack.standin.scim_deletes.clear()
    else:
        assert raw.json() == {"schemas": [ERROR_SCHEMA], "detail": description, "status": status}

    # and the provider makes one outcome of it
    seat = InactiveSeat(user_id=member, email=None, last_active=None, name="Person 5")
    hooks = slack.hooks(http)
    result = await scim.deactivate(hooks.http, Bearer(token), hooks.scim, TEAM, seat)
    assert result.outcome is outcome and says in result.sentence
    assert slack.standin.scim_deletes == ([member] if outcome is SeatOutcome.DONE else [])
    if description is not None:
        assert result.answer.startswith(str(status))


@pytest.mark.parametrize(
    "body,category",
    [
        ({"schemas": [ERROR_SCHEMA], "detail": "plus_teams_only", "status": 403}, "plus_teams_only"),  # v2.0
        ({"Errors": {"description": "no_such_user", "code": 404}}, "no_such_user"),  # SCIM v1.1
        ({"ok": False, "error": "paid_only"}, "paid_only"),  # the Web API
        ({"Errors": "not an object"}, None),
    ],
)
def test_the_policy_reads_slacks_scim_error_body(body, category):
    assert POLICY.error_info(body).category == category


def test_the_standin_answers_only_the_references_error_names():
    from sandbox.standins.slack_scim import SCIM_ERRORS

    assert set(SCIM_ERRORS) <= REFERENCE_ERRORS


def test_no_token_is_missing_authentication(served):
    slack = make_slack(*served, n_users=5)
    raw = httpx.delete(f"{slack.url}/scim/v2/Users/{MEMBER}", timeout=5)
    assert raw.status_code == 401
    assert raw.json() == {"schemas": [ERROR_SCHEMA], "detail": "missing_authentication", "status": 401}
    assert slack.standin.scim_deletes == []


async def test_an_org_primary_owner_refusal_is_refused_not_unsupported(served, http):
    """`primary_owner_check_failure` (a workspace's primary owner within an org) refuses this member."""
    import respx

    seat = InactiveSeat(user_id=MEMBER, email=None, last_active=None, name="Person 5")
    body = {"schemas": [ERROR_SCHEMA], "detail": "primary_owner_check_failure", "status": 403}
    with respx.mock(assert_all_called=True) as mock:
        mock.delete(f"https://scim.test/scim/v2/Users/{MEMBER}").respond(403, json=body)
        slack = make_slack(*served, n_users=5)
        hooks = slack.hooks(http)
        result = await scim.deactivate(hooks.http, Bearer("xoxp-1"), "https://scim.test", TEAM, seat)
    assert result.outcome is SeatOutcome.REFUSED and "primary_owner_check_failure" in result.sentence
