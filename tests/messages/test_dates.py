"""Times in messages: Slack's date token, so every reader sees them in their own zone; pure wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.reports import UsageReport
from messages import blocks
from messages import digest as db
from tests.messages.test_digest import report as digest_report

MOMENT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 1796630400


@pytest.mark.parametrize(
    "moment,tokens,expected",
    [
        (MOMENT, blocks.DATE_TIME, "<!date^1796630400^{date_short_pretty} at {time}|2026-12-07 08:00 UTC>"),
        (MOMENT, blocks.DATE, "<!date^1796630400^{date_short_pretty}|2026-12-07>"),
        # another zone: the token is the same instant, the fallback in UTC
        (
            MOMENT.astimezone(timezone(timedelta(hours=-5))),
            blocks.DATE,
            "<!date^1796630400^{date_short_pretty}|2026-12-07>",
        ),
        (
            datetime(2026, 12, 6, 23, 30, tzinfo=timezone(timedelta(hours=-3))),
            blocks.DATE_TIME,
            "<!date^1796610600^{date_short_pretty} at {time}|2026-12-07 02:30 UTC>",
        ),
    ],
)
def test_slack_date(moment, tokens, expected):
    assert blocks.slack_date(moment, tokens) == expected


def test_slack_dates_fallback_is_escaped():
    odd = "{date} <b> & {time}"
    assert blocks.slack_date(MOMENT, odd).endswith("|2026-12-07 08:00 UTC>")  # made from the time only
    assert "&" not in blocks.slack_date(MOMENT, "{date_num}").split("|")[1]


@pytest.mark.parametrize(
    "now_idle,then_idle,expected",
    [
        (10, 8, "▲ 2 more idle seats than the period before (8)"),
        (9, 8, "▲ 1 more idle seat than the period before (8)"),
        (5, 8, "▼ 3 fewer idle seats than the period before (8)"),
        (7, 8, "▼ 1 fewer idle seat than the period before (8)"),
        (2, 2, "= as many idle seats as the period before (2)"),
    ],
)
def test_the_change_is_a_sentence(now_idle, then_idle, expected):
    def report(idle: int) -> UsageReport:
        return digest_report(paid=40, active_paid=40 - idle)

    assert db.change_text(report(now_idle), [report(then_idle)]).split(" · ")[0] == expected


def test_an_idle_seat_that_never_signed_in_says_so():
    never = db.Person("casey@acme.example", None)
    once = db.Person("robin@acme.example", datetime(2026, 11, 20, 10, tzinfo=UTC))
    report = digest_report(paid=2, active_paid=0)
    c = db.ConnectionDigest("hubspot", "HubSpot", "acme", report=report, named=[never, once])
    text = str(db.connection_blocks(c))
    assert "casey@acme.example — never signed in" in text
    assert "robin@acme.example — last active <!date^1795168800^{date_short_pretty}|2026-11-20>" in text
    assert "last active never" not in text


def test_the_digests_times_are_date_tokens():
    data = db.DigestData(
        (MOMENT.date() - timedelta(days=7), MOMENT.date() - timedelta(days=1)),
        "Europe/Berlin",
        [],
        collected_at=MOMENT,
        late_since=MOMENT - timedelta(hours=2),
    )
    text = str(db.digest_message(data))
    assert "Collected <!date^1796630400^{date_short_pretty} at {time}|2026-12-07 08:00 UTC>" in text
    assert "due <!date^1796623200^" in text
