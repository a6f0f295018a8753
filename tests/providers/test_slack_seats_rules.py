"""Slack seats' pure decisions, table by table: what a member is, who is billed, who is idle, and
what each of Slack's errors means for the connection."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from providers.errors import ProviderError, TransientError
from providers.slack_seats import seats
from providers.slack_seats.api import error_of
from providers.slack_seats.pages import Member
from providers.slack_seats.policy import classify

SINCE = datetime(2026, 5, 1, tzinfo=UTC)
BEFORE, AFTER = datetime(2026, 4, 30, tzinfo=UTC), datetime(2026, 5, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("user", "kind"),
    [
        ({"id": "U1"}, seats.MEMBER),
        ({"id": "U1", "is_admin": True}, seats.MEMBER),
        ({"id": "U1", "is_restricted": True}, seats.MULTI_GUEST),
        ({"id": "U1", "is_restricted": True, "is_ultra_restricted": True}, seats.SINGLE_GUEST),
        ({"id": "U1", "is_ultra_restricted": True}, seats.SINGLE_GUEST),
        ({"id": "U1", "deleted": True, "is_restricted": True}, seats.DEACTIVATED),
        ({"id": "B1", "is_bot": True}, seats.BOT),
        ({"id": "USLACKBOT"}, seats.BOT),
    ],
)
def test_what_a_member_is(user, kind):
    assert seats.kind(msgspec.convert(user, Member)) == kind


@pytest.mark.parametrize(
    ("user", "admin"),
    [
        ({"id": "U1"}, False),
        ({"id": "U1", "is_admin": True}, True),
        ({"id": "U1", "is_owner": True}, True),
        ({"id": "U1", "is_primary_owner": True}, True),
        ({"id": "U1", "enterprise_user": {"is_admin": True}}, True),  # an org admin of the Grid
        ({"id": "U1", "enterprise_user": {"is_owner": False}}, False),
    ],
)
def test_who_is_never_reclaimed_as_an_admin(user, admin):
    assert seats.is_admin(msgspec.convert(user, Member)) is admin


@pytest.mark.parametrize(
    ("kind", "billing_active", "billed", "still"),
    [
        (seats.MEMBER, None, True, False),  # without billing: members are the seats Slack bills
        (seats.MULTI_GUEST, None, True, False),  # multi-channel guests are billed
        (seats.SINGLE_GUEST, None, False, False),  # single-channel guests mostly are not
        (seats.DEACTIVATED, None, False, False),
        (seats.BOT, True, False, False),  # never a seat
        (seats.MEMBER, False, False, False),  # Fair Billing: an inactive member is not billed
        (seats.SINGLE_GUEST, True, True, False),  # beyond the free allowance Slack says so
        (seats.DEACTIVATED, True, True, True),  # deactivated, still billed: a finding
    ],
)
def test_who_is_billed(kind, billing_active, billed, still):
    assert seats.billed(kind, billing_active) is billed
    assert seats.still_billed(kind, billing_active) is still


@pytest.mark.parametrize(
    ("billed", "last", "known", "idle"),
    [
        (True, None, True, True),  # never accessed
        (True, BEFORE, True, True),
        (True, SINCE, True, False),  # the period's first instant counts
        (True, AFTER, True, False),
        (False, None, True, False),  # not billed: not a seat to reclaim
        (True, None, False, False),  # activity unknown (no admin, free plan, logs cut): never idle
    ],
)
def test_who_is_idle(billed, last, known, idle):
    assert seats.idle(billed, last, SINCE, activity_known=known) is idle


@pytest.mark.parametrize(
    ("body", "kind", "feature"),
    [
        ({"error": "token_revoked"}, "revoked", None),
        ({"error": "account_inactive"}, "revoked", None),
        ({"error": "invalid_auth"}, "revoked", None),
        ({"error": "missing_scope", "needed": "admin"}, "scope_lost", "admin"),
        ({"error": "missing_scope", "needed": "users:read"}, "scope_lost", "users:read"),
        ({"error": "not_allowed_token_type"}, "scope_lost", "admin"),
        ({"error": "paid_only"}, "scope_lost", "team.accessLogs"),
        ({"error": "ratelimited"}, "transient", None),
        ({"error": "internal_error"}, "transient", None),
    ],
)
def test_what_slacks_errors_mean(body, kind, feature):
    failure = classify(error_of({"ok": False, **body}, "team.billableInfo"))
    assert (failure.kind, failure.feature) == (kind, feature)


def test_a_429_outlasting_the_retries_and_an_unreachable_slack_are_transient():
    assert classify(TransientError("x", provider="slack_seats", status=429)).kind == "transient"
    assert (
        classify(ProviderError("x", provider="slack_seats", status=503, category="ratelimited")).kind
        == "transient"
    )
    assert classify(ValueError("no")).kind == "transient"


@pytest.mark.parametrize(
    ("stamp", "moment"),
    [(0, None), ("x", None), (None, None), (1780000000, datetime.fromtimestamp(1780000000, UTC))],
)
def test_an_access_logs_date_last(stamp, moment):
    assert seats.last_access(stamp) == moment
