"""The usage digest: one Block Kit message per workspace and period. Pure: data in, message out.

Shaped like Sentry's daily summary: a header with the period, then per connection the number that
matters (idle paid seats and what they cost), the change against the previous period with a small
trend, the first few names, a line of activity, then a footer. Within Slack's limits by
construction: at most MAX_BLOCKS blocks (accounts beyond what fits are listed by name), every
section text at most SECTION_LIMIT characters (long lists end with "and N more").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock

from core.money import DEFAULT_LOCALE, Money, digits, format_money
from core.reports import Figure, UsageReport
from messages import blocks
from messages.cards import RECONNECT
from messages.digest_data import ConnectionDigest, DigestData, Person, counted, idle_count, utilisation
from messages.digest_trend import charted, trend_chart, trend_reports

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
NAMED = 5  # inactive seats named before "and N more"
SPARK = "▁▂▃▄▅▆▇█"
DIGEST_RECONNECT_ACTION = "digest_reconnect"

TITLE = "Seat usage · {period}"
LATE = ":hourglass_flowing_sand: This digest was due {due} and is late: Quolum was not running then."
PREVIEW = ":eyes: Preview — only you can see this. Nothing was posted."
NEEDS_RECONNECT = (
    ":warning: *{provider} needs reconnecting* (since {since}): {reason}\n"
    "No figures until an admin reconnects it — these would be stale."
)
UNAVAILABLE = (
    ":grey_question: *{provider}* did not answer while this digest was prepared: no figures this time."
)
FAILED_OURS = (
    ":warning: Quolum failed to prepare the *{provider}* figures (an error on Quolum's side, not "
    "{provider}'s; the operator's log has the reason): no figures this time."
)
NO_CONNECTIONS = "No accounts are connected yet: an admin can connect one with `/quolum connect`."
IDLE_HEADLINE = "*{idle} of {paid} paid seats idle*{cost}"
IDLE_NONE = "*Every paid seat was used* ({paid} of {paid})"
SIGNAL_UNAVAILABLE = ":grey_question: {signal} unavailable: {reason}"
MORE_ACCOUNTS = "…and {n} more accounts that did not fit in one message:"
AND_MORE = "…and {n} more"
LAST_ACTIVE = "last active {day}"
CHANGE_MORE = "▲ {n} more idle seat{s} than the period before ({then})"
CHANGE_FEWER = "▼ {n} fewer idle seat{s} than the period before ({then})"
CHANGE_SAME = "= as many idle seats as the period before ({then})"
NEVER_ACTIVE = "never signed in"
KEPT = " — _kept by its holder until {day}_"
REVIEW_ACTION = "seats_review"  # handlers/seats.py opens the idle seats (messages.seats.REVIEW)
REVIEW = "Review idle seats"
FOOTER = "Collected {collected}. Change this digest with `/quolum digest subscribe` or `/quolum digest unsubscribe`."
FALLBACK = "Quolum digest {period}: {summary}"


# --- formatting helpers (pure) -------------------------------------------------------------
def period_label(period: tuple[date, date]) -> str:
    start, end = period
    if start.year == end.year:
        return f"{start:%-d %b} – {end:%-d %b %Y}"
    return f"{start:%-d %b %Y} – {end:%-d %b %Y}"


def money(minor: int, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """An amount in the currency's own minor units (cents; yen have none) as Babel writes it in
    `locale`, without a fraction when it is whole: "€90", "$123.45", "¥2,000". A code Babel does not
    know (stored before currencies were checked) is shown as it is."""
    try:
        places = digits(currency)
    except ValueError:
        return f"{minor / 100:,.2f} {blocks.escape(currency)}"
    return blocks.escape(format_money(Money(minor, currency), locale, whole=minor % 10**places == 0))


def sparkline(values: Sequence[float]) -> str:
    """Oldest to newest, scaled between the lowest and highest value."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARK[len(SPARK) // 2] * len(values)
    return "".join(SPARK[round((v - low) / (high - low) * (len(SPARK) - 1))] for v in values)


def fit(lines: Sequence[str], limit: int = SECTION_LIMIT, total: int | None = None) -> str:
    """Join lines, dropping the tail (with "and N more") so the text stays within `limit`."""
    total = len(lines) if total is None else total
    kept = list(lines)
    while True:
        more = total - len(kept)
        text = "\n".join(kept + ([AND_MORE.format(n=more)] if more > 0 else []))
        if len(text) <= limit or not kept:
            return text[:limit]
        kept.pop()


def _last_active(moment: datetime | None) -> str:
    if moment is None:
        return NEVER_ACTIVE
    return LAST_ACTIVE.format(day=blocks.slack_date(moment, blocks.DATE))


def change_text(report: UsageReport, history: Sequence[UsageReport]) -> str:
    if not history:
        return "first period: no change to show yet"
    before = history[0]
    now_idle, then_idle = idle_count(report), idle_count(before)
    diff = now_idle - then_idle
    change = CHANGE_MORE if diff > 0 else CHANGE_FEWER if diff < 0 else CHANGE_SAME
    text = change.format(n=abs(diff), s="" if abs(diff) == 1 else "s", then=then_idle)
    trend = [u for u in (utilisation(r) for r in reversed([report, *history][:8])) if u is not None]
    if len(trend) >= 2:
        text += f" · utilisation {sparkline(trend)}"
    return text


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


# --- blocks ---------------------------------------------------------------------------------
def _fields(items: Sequence[tuple[str, str]]) -> dict:
    return SectionBlock(
        fields=[blocks.MarkdownTextObject(text=f"*{k}*\n{v}"[:FIELD_LIMIT]) for k, v in items[:10]]
    ).to_dict()


def _cost(idle: int, price: tuple[int, str] | None, locale: str = DEFAULT_LOCALE) -> str:
    if not price or not idle:
        return ""
    return f" — about *{money(idle * price[0], price[1], locale)}/month*"


def connection_blocks(
    c: ConnectionDigest, *, chart: bool = False, locale: str = DEFAULT_LOCALE
) -> list[dict]:
    """At most 6 blocks for one connection (5 without its chart)."""
    title = f"*{blocks.escape(c.provider_name)}* · {blocks.escape(c.account[:200])}"
    if c.state == "needs_reconnect":
        since = blocks.slack_date(c.since, blocks.DATE) if c.since else "recently"
        text = NEEDS_RECONNECT.format(
            provider=blocks.escape(c.provider_name),
            since=since,
            reason=blocks.escape(c.reason or "access was refused"),
        )
        button = ButtonElement(text=RECONNECT, action_id=DIGEST_RECONNECT_ACTION, value=c.provider)
        return [blocks.markdown(fit([title, text])), ActionsBlock(elements=[button]).to_dict()]
    if c.state == "failed":
        return [blocks.markdown(fit([title, FAILED_OURS.format(provider=blocks.escape(c.provider_name))]))]
    if c.state == "unavailable" or c.report is None:
        return [blocks.markdown(fit([title, UNAVAILABLE.format(provider=blocks.escape(c.provider_name))]))]
    report = c.report
    seats, period = report.seats, report.period
    out: list[dict] = []
    head = [title, blocks.escape(f"{period.start} – {period.end} ({period.timezone})")]
    idle = idle_count(report)
    if counted(report):
        paid = seats.paid_seats
        head.append(
            IDLE_HEADLINE.format(idle=idle, paid=paid, cost=_cost(idle, c.price, locale))
            if idle
            else IDLE_NONE.format(paid=paid)
        )
        out.append(blocks.markdown(fit(head)))
        items = [
            ("Paid seats", str(paid)),
            ("Active paid users", f"{seats.active_paid_users} ({_pct(utilisation(report))})"),
            ("Change", change_text(report, c.history)),
        ]
        out.append(_fields(items + _figure_items(report.highlights)))
        drawn = trend_chart(c) if chart else None
        if drawn is not None:
            out.append(drawn)
        names = [f"• {_person(p)} — {_last_active(p.last_active)}{_kept(p)}" for p in c.named]
        if idle:
            out.append(blocks.markdown(fit(["*Idle paid seats*", *names], total=1 + max(idle, len(names)))))
    else:  # seats are only counted: what the provider highlights (capacity, rates) says the rest
        noun = blocks.escape(seats.noun)
        out.append(blocks.markdown(fit(head + [f"*{seats.total_users} {noun}*"])))
        if report.highlights:
            out.append(_fields(_figure_items(report.highlights)))
    figures = [
        f"{blocks.escape(f.label)} *{blocks.escape(f.value_text())}*"
        for f in report.summary
        if f.value is not None
    ]
    notes = [
        SIGNAL_UNAVAILABLE.format(signal=blocks.escape(signals), reason=blocks.escape(reason))
        for signals, reason in _unavailable(report.signals.unavailable)
    ]
    line = " · ".join(figures)
    if line or notes:
        out.append(blocks.context(fit([x for x in [line, *notes] if x], limit=SECTION_LIMIT)))
    return out


def _unavailable(unavailable) -> list[tuple[str, str]]:
    """(the signals, the reason) once per reason: signals missing for one reason are named together
    ("Billing and access logs"), so the sentence is said once."""
    by_reason: dict[str, list[str]] = {}
    for u in unavailable:
        by_reason.setdefault(u.reason, []).append(u.signal.replace("_", " "))
    out = []
    for reason, signals in by_reason.items():
        named = signals[0] if len(signals) == 1 else f"{', '.join(signals[:-1])} and {signals[-1]}"
        out.append((named[:1].upper() + named[1:], reason))
    return out


def _figure_items(figures: Sequence[Figure]) -> list[tuple[str, str]]:
    """Labelled fields, escaped: labels and notes are the provider's text."""
    return [(blocks.escape(f.label), blocks.escape(f.text())) for f in figures]


def _kept(p: Person) -> str:
    return KEPT.format(day=blocks.slack_date(p.kept_until, blocks.DATE)) if p.kept_until else ""


def _person(p: Person) -> str:
    return f"<@{blocks.escape(p.user_id)}>" if p.user_id else blocks.escape(p.label)


def headline(data: DigestData) -> str:
    parts = []
    for c in data.connections:
        name = blocks.escape(c.provider_name)
        if c.state == "needs_reconnect":
            parts.append(f"{name} needs reconnecting")
        elif c.state == "failed":
            parts.append(f"{name} figures missing (Quolum's error)")
        elif c.report is None:
            parts.append(f"{name} unavailable")
        elif counted(c.report):
            idle = idle_count(c.report)
            trend = [u for u in (utilisation(r) for r in trend_reports(c)[-8:]) if u is not None]
            spark = f" (utilisation {sparkline(trend)})" if len(trend) >= 2 else ""
            parts.append(
                f"{idle} idle paid {name} seat{'s' if idle != 1 else ''}"
                f"{_cost(idle, c.price, data.locale).replace('*', '')}{spark}"
            )
        else:
            first = next((f for f in c.report.highlights if f.value is not None), None)
            parts.append(f"{name}: {blocks.escape(first.label)} {first.value_text()}" if first else name)
    summary = "; ".join(parts) or "no accounts connected"
    if data.spend:
        summary = f"{summary}. {data.spend.replace('*', '')}"
    if data.savings:
        summary = f"{summary}. {data.savings}"
    return FALLBACK.format(period=period_label(data.period), summary=summary)


def digest_message(data: DigestData) -> dict:
    top = [blocks.header(TITLE.format(period=period_label(data.period)))]
    if data.preview:
        top.append(blocks.context(PREVIEW))
    if data.late_since is not None:
        top.append(blocks.context(LATE.format(due=blocks.slack_date(data.late_since))))
    if data.spend:
        top.append(blocks.context(f":moneybag: {data.spend}"))
    if data.savings:
        top.append(blocks.context(data.savings))
    collected = blocks.slack_date(data.collected_at) if data.collected_at else "—"
    footer = [blocks.divider(), blocks.context(FOOTER.format(collected=collected))]
    if data.review:
        review = ButtonElement(text=REVIEW, action_id=REVIEW_ACTION, value="review")
        footer.insert(1, ActionsBlock(elements=[review]).to_dict())
    body: list[dict] = []
    room = MAX_BLOCKS - len(top) - len(footer)
    connections = list(data.connections)
    with_chart = charted(data)
    if not connections:
        body.append(blocks.markdown(NO_CONNECTIONS))
    for index, c in enumerate(connections):
        part = ([blocks.divider()] if body else []) + connection_blocks(
            c, chart=index in with_chart, locale=data.locale
        )
        rest = connections[index + 1 :]
        reserve = 2 if rest else 0  # a divider and the "more accounts" line
        if len(body) + len(part) + reserve > room:
            left = connections[index:]
            names = [f"• {blocks.escape(x.provider_name)} {blocks.escape(x.account[:100])}" for x in left]
            body += [blocks.divider(), blocks.markdown(fit([MORE_ACCOUNTS.format(n=len(left)), *names]))]
            break
        body += part
    return blocks.message(headline(data)[:3000], top + body + footer)


PAUSED_DM = {
    "not_in_channel": (
        "I could not post the usage digest in <#{channel}>: I am not a member of it. Invite me there "
        "with `/invite @Quolum`, then run `/quolum digest subscribe <#{channel}>` to resume it."
    ),
    "channel_not_found": (
        "I could not post the usage digest in <#{channel}>: it no longer exists, or it is private and "
        "I was removed. The digest is paused; `/quolum digest subscribe` in a channel I can post in resumes it."
    ),
    "is_archived": (
        "<#{channel}> was archived, so the usage digest is paused. Run `/quolum digest subscribe` in "
        "another channel to keep receiving it."
    ),
    "account_inactive": (
        "Slack says Quolum's access to this workspace is inactive, so the usage digest for <#{channel}> "
        "is paused. Reinstall Quolum, then run `/quolum digest subscribe <#{channel}>`."
    ),
}
# a post Slack may have taken without answering, which the bot cannot look for (README, "Digests")
UNCERTAIN_DM = (
    "Slack did not confirm this period's usage digest for <#{channel}>, so it may or may not be there. "
    "I will not post it again, to avoid a duplicate: `/quolum digest preview` shows it now. To let me check "
    "next time, invite me to <#{channel}> and grant Quolum the optional history permission."
)


def paused_dm(code: str, channel: str) -> str:
    """What the subscriber is told once when Slack refuses the digest's channel (`code`)."""
    return PAUSED_DM.get(code, PAUSED_DM["channel_not_found"]).format(channel=blocks.escape(channel))


def uncertain_dm(channel: str) -> str:
    """What the subscriber is told once when a post's outcome is unknown and cannot be looked up."""
    return UNCERTAIN_DM.format(channel=blocks.escape(channel))


def offer_blocks(note: str) -> list[dict]:
    """The connect confirmation, with the first insight on offer: preview now, or pick a channel."""
    from slack_sdk.models.blocks import ConversationFilter, ConversationSelectElement

    picker = ConversationSelectElement(
        action_id=SUBSCRIBE_PICK_ACTION,
        placeholder="Subscribe a channel",
        filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
    )
    preview = ButtonElement(text="Preview digest", action_id=PREVIEW_ACTION, value="preview", style="primary")
    return [blocks.markdown(note), blocks.markdown(OFFER), ActionsBlock(elements=[preview, picker]).to_dict()]


PREVIEW_ACTION = "digest_preview"
SUBSCRIBE_PICK_ACTION = "digest_subscribe_pick"
OFFER = "See what the weekly digest will say now, or pick a channel to receive it every Monday at 09:00."
