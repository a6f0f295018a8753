"""The sandbox renderers draw Slack's `<!date^…>` tokens as Slack does for one reader, in their zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from messages import blocks
from sandbox import render_html as rh
from sandbox import render_terminal as rt

MOMENT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # a Monday
UNIX = int(MOMENT.timestamp())
BERLIN, TOKYO, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "tokens,tz,today,expected",
    [
        ("{date_num}", BERLIN, None, "2026-12-07"),
        ("{date_slash}", BERLIN, None, "07/12/2026"),
        ("{date}", BERLIN, None, "December 7th, 2026"),
        ("{date_short}", BERLIN, None, "Dec 7, 2026"),
        ("{date_long}", BERLIN, None, "Monday, December 7th, 2026"),
        ("{date_long_full}", BERLIN, None, "December 7, 2026"),
        ("{time}", BERLIN, None, "09:00"),
        ("{time}", TOKYO, None, "17:00"),
        ("{time_secs}", NEW_YORK, None, "03:00:00"),
        ("{date_short_pretty} at {time}", BERLIN, date(2026, 12, 7), "today at 09:00"),
        ("{date_short_pretty} at {time}", BERLIN, date(2026, 12, 8), "yesterday at 09:00"),
        ("{date_long_pretty}", BERLIN, date(2026, 12, 6), "tomorrow"),
        ("{date_short_pretty}", BERLIN, date(2026, 12, 1), "Dec 7, 2026"),
        ("{day_divider_pretty}", BERLIN, date(2026, 12, 1), "Monday, December 7th"),
        ("{day_divider_pretty}", BERLIN, date(2025, 12, 1), "Monday, December 7th, 2026"),
        ("{date_num}", ZoneInfo("Pacific/Kiritimati"), None, "2026-12-07"),  # UTC+14: still the 7th, 22:00
        ("{date_num}", ZoneInfo("Pacific/Pago_Pago"), None, "2026-12-06"),  # UTC-11: the day before
        ("{nonsense} {time}", BERLIN, None, "{nonsense} 09:00"),
        ("{date_short} 1st 2nd", BERLIN, None, "Dec 7, 2026 1st 2nd"),
    ],
)
def test_date_text(tokens, tz, today, expected):
    assert rt.date_text(UNIX, tokens, tz, today) == expected


@pytest.mark.parametrize(
    "day,suffix",
    [
        (1, "st"),
        (2, "nd"),
        (3, "rd"),
        (4, "th"),
        (11, "th"),
        (12, "th"),
        (13, "th"),
        (21, "st"),
        (22, "nd"),
        (23, "rd"),
        (31, "st"),
    ],
)
def test_ordinals(day, suffix):
    moment = datetime(2026, 12, day, 12, tzinfo=UTC)
    assert rt.date_text(int(moment.timestamp()), "{date}", UTC) == f"December {day}{suffix}, 2026"


def test_a_message_is_drawn_for_its_reader():
    message = {
        "blocks": [
            blocks.markdown(
                f"Next {blocks.slack_date(MOMENT)} · since {blocks.slack_date(MOMENT, blocks.DATE)}"
            )
        ]
    }
    berlin = rh.message_html(rt.with_dates(message, BERLIN, date(2026, 12, 1)))
    tokyo = rh.message_html(rt.with_dates(message, TOKYO, date(2026, 12, 7)))
    assert "Next Dec 7, 2026 at 09:00 · since Dec 7, 2026" in berlin
    assert "Next today at 17:00 · since today" in tokyo
    assert "UTC" not in berlin + tokyo and "date^" not in berlin + tokyo
    # without a reader (the fallback path), the fallback text
    assert "2026-12-07 08:00 UTC" in rh.message_html(message)
    assert rt.mrkdwn_plain(blocks.slack_date(MOMENT)) == "2026-12-07 08:00 UTC"


def test_a_date_token_with_a_link_is_drawn_too():
    text = f"<!date^{UNIX}^{{date_num}}^https://example.com|fallback>"
    assert rt.with_dates(text, BERLIN) == "2026-12-07"
