"""The digest's trend as Slack's data visualization block: fitted to the block's limits, checked by
the Slack stand-in's schema check, two at most, the sparkline kept in the fallback text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from messages import charts
from messages import digest as db
from messages import digest_trend as trend
from sandbox.standins.slack_blocks import block_errors
from tests.messages.test_digest import data, limits_hold, report


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("HubSpot", 20, "HubSpot"),
        ("a" * 20, 20, "a" * 20),
        ("a" * 21, 20, "a" * 19 + "…"),
        ("R&D <team>", 20, "R&amp;D &lt;team&gt;"),
        ("<" * 10, 20, "&lt;" * 4 + "…"),  # never half an entity
        ("&" * 30, 50, "&amp;" * 9 + "…"),
    ],
)
def test_text_is_escaped_then_fitted_whole(text, limit, expected):
    assert charts.fitted(text, limit) == expected
    assert len(charts.fitted(text, limit)) <= limit


def series(n_series: int, n_points: int, name: str = "Seats") -> list[charts.Series]:
    return [charts.Series(f"{name} {i}", [float(i + j) for j in range(n_points)]) for i in range(n_series)]


@pytest.mark.parametrize(
    ("title", "categories", "n_series", "points", "drawn_series"),
    [
        ("HubSpot: paid seats and active people", 12, 2, 12, 2),
        ("T" * 80, 12, 2, 12, 2),  # the title is cut to 50
        ("Zoom", 25, 2, 20, 2),  # the last 20 periods
        ("Zoom", 3, 8, 3, 6),  # the first 6 series
        ("Google <Workspace> & co", 1, 1, 1, 1),
    ],
)
def test_every_line_chart_passes_the_block_check(title, categories, n_series, points, drawn_series):
    labels = [f"week {i}" for i in range(categories)]
    block = charts.line_chart(title, labels, series(n_series, categories), x_label="Week", y_label="S" * 70)
    assert block_errors([block]) == []
    chart = block["chart"]
    assert len(block["title"]) <= charts.TITLE_MAX and "<" not in block["title"]
    assert len(chart["series"]) == drawn_series
    assert chart["axis_config"]["categories"] == labels[-points:]
    first = chart["series"][0]["data"]
    assert [p["value"] for p in first] == [float(j) for j in range(categories)][-points:]
    assert len(chart["axis_config"]["y_label"]) == charts.AXIS_LABEL_MAX


@pytest.mark.parametrize(
    ("categories", "values"),
    [
        ([], [1.0]),
        (["a", "a"], [1.0, 2.0]),
        (["a", "b"], [1.0]),
    ],
)
def test_a_chart_that_cannot_be_drawn_is_our_bug_and_raises(categories, values):
    with pytest.raises(ValueError):
        charts.line_chart("t", categories, [charts.Series("s", values)])


def test_without_charts_leaves_every_other_block():
    block = charts.line_chart("t", ["a", "b"], [charts.Series("s", [1, 2])])
    message = {"text": "x", "blocks": [{"type": "divider"}, block, {"type": "divider"}]}
    assert charts.has_charts(message)
    assert charts.without_charts(message) == {
        "text": "x",
        "blocks": [{"type": "divider"}, {"type": "divider"}],
    }
    assert not charts.has_charts(charts.without_charts(message))


def weekly(provider: str, weeks: int, *, paid=40, end="2026-11-22"):
    """A connection whose report ends on `end`, with `weeks` earlier weekly reports, newest first:
    the k-th earlier one had `paid - k` paid seats and `20 + k` active."""
    last = date.fromisoformat(end)
    now = report(provider, paid=paid, active_paid=30, end=end)
    history = [
        report(provider, paid=paid - k, active_paid=20 + k, end=(last - timedelta(weeks=k)).isoformat())
        for k in range(1, weeks + 1)
    ]
    return db.ConnectionDigest(provider, provider.capitalize(), "acme", report=now, history=history)


def charts_of(message: dict) -> list[dict]:
    return [b for b in message["blocks"] if b["type"] == charts.BLOCK_TYPE]


def test_the_chart_draws_paid_and_active_over_the_last_twelve_periods_oldest_first():
    c = weekly("hubspot", weeks=14)
    message = db.digest_message(data(c))
    limits_hold(message)
    (chart,) = charts_of(message)
    paid, active = chart["chart"]["series"]
    assert paid["name"] == trend.CHART_PAID and active["name"] == trend.CHART_ACTIVE
    # the current period and the 11 before it: k = 11 .. 1, then now (40 paid, 30 active)
    assert [p["value"] for p in paid["data"]] == [40 - k for k in range(11, 0, -1)] + [40]
    assert [p["value"] for p in active["data"]] == [20 + k for k in range(11, 0, -1)] + [30]
    categories = chart["chart"]["axis_config"]["categories"]
    assert categories[-1] == "16 Nov" and categories[0] == "31 Aug" and len(categories) == trend.TREND_PERIODS
    assert chart["title"] == "Hubspot: paid seats and active people"


def test_no_chart_without_an_earlier_period_and_none_when_the_workspace_refused_it():
    assert charts_of(db.digest_message(data(weekly("hubspot", weeks=0)))) == []
    refused = db.digest_message(data(weekly("hubspot", weeks=3), charts=False))
    assert charts_of(refused) == []
    assert "(utilisation " in refused["text"]  # the trend stays in the fallback text


def test_at_most_two_charts_for_the_connections_with_the_most_idle_seats():
    few = weekly("hubspot", weeks=2, paid=32)  # 2 idle
    many = weekly("zoom", weeks=2, paid=45)  # 15 idle
    some = weekly("github", weeks=2, paid=38)  # 8 idle
    alone = weekly("google", weeks=0, paid=90)  # 60 idle, but nothing to draw yet
    message = db.digest_message(data(few, many, some, alone))
    limits_hold(message)
    titles = [c["title"] for c in charts_of(message)]
    assert titles == ["Zoom: paid seats and active people", "Github: paid seats and active people"]


def test_the_years_are_named_when_the_days_alone_repeat():
    c = weekly("hubspot", weeks=0)
    chart = trend.trend_chart(replace(c, history=[report("hubspot", end="2025-11-22")]))
    assert chart["chart"]["axis_config"]["categories"] == ["16 Nov 25", "16 Nov 26"]


def test_the_fallback_text_carries_the_trend_as_a_sparkline():
    message = db.digest_message(data(weekly("hubspot", weeks=5)))
    assert "(utilisation " in message["text"]
    spark = message["text"].split("(utilisation ")[1].split(")")[0]
    assert len(spark) == 6 and set(spark) <= set(db.SPARK)


def test_fifty_connections_with_charts_stay_within_slacks_limits():
    many = [weekly(f"p{i}", weeks=12, paid=40 + i) for i in range(50)]
    message = db.digest_message(data(*many))
    limits_hold(message)
    assert len(charts_of(message)) <= charts.PER_MESSAGE
