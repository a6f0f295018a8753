"""The digest's trend: paid seats and active paid users over the last periods, as Slack's line
chart (messages/charts.py). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from core.reports import UsageReport
from messages import charts
from messages.digest_data import ConnectionDigest, DigestData, counted, idle_count

TREND_PERIODS = 12  # the chart's periods: this one and up to 11 before it
CHART_TITLE = "{provider}: paid seats and active people"
CHART_PAID = "Paid seats"
CHART_ACTIVE = "Active paid users"


def trend_reports(c: ConnectionDigest) -> list[UsageReport]:
    """This period's report and the earlier ones that counted active people, oldest first (at most
    TREND_PERIODS): the chart's points. Fewer than two: no trend to draw."""
    if c.report is None or not counted(c.report):
        return []
    kept: list[UsageReport] = []
    for r in [c.report, *c.history]:  # newest first: each period once, each earlier than the last
        if counted(r) and (not kept or r.period.start < kept[-1].period.start):
            kept.append(r)
    return list(reversed(kept[:TREND_PERIODS]))


def _period_labels(starts: Sequence[date]) -> list[str]:
    """ "30 Nov" for each period's first day, with the year ("30 Nov 25") when that alone repeats."""
    short = [f"{d.day} {d:%b}" for d in starts]
    return short if len(set(short)) == len(short) else [f"{d.day} {d:%b %y}" for d in starts]


def trend_chart(c: ConnectionDigest) -> dict | None:
    """Paid seats and active paid users over the last periods as Slack's line chart; None with
    fewer than two periods to draw."""
    reports = trend_reports(c)
    if len(reports) < 2:
        return None
    return charts.line_chart(
        CHART_TITLE.format(provider=c.provider_name),
        _period_labels([r.period.start for r in reports]),
        [
            charts.Series(CHART_PAID, [r.seats.paid_seats for r in reports]),
            charts.Series(CHART_ACTIVE, [r.seats.active_paid_users or 0 for r in reports]),
        ],
        y_label="Seats",
    )


def charted(data: DigestData) -> set[int]:
    """Which connections (by index) get a chart: Slack allows two in a message, so the two with the
    most idle seats among those with a trend (the first listed on a tie)."""
    if not data.charts:
        return set()
    drawable = [
        (-idle_count(c.report), i)
        for i, c in enumerate(data.connections)
        if c.report is not None and c.state == "ok" and len(trend_reports(c)) >= 2
    ]
    return {i for _, i in sorted(drawable)[: charts.PER_MESSAGE]}
