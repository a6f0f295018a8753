"""Idle seats in Slack: the seats view, the ask DM and its answers, the asking admin's summary, the
reclaim confirm dialog and results, savings. Pure builders: typed data in, Block Kit out; every
provider, person or Slack string goes through `esc` (blocks.escape)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from core.money import DEFAULT_LOCALE
from core.seats import ConnectionSeats, Policy, Savings, SeatRow
from messages import blocks
from messages.digest import money

esc = blocks.escape

# action and callback ids (handlers/seats.py registers them)
PICK = "seats_pick"  # the multi-select of one connection's block `seats:<connection id>`
ASK, RECLAIM, ENABLE, UNDO, REVIEW = (
    "seats_ask",
    "seats_reclaim",
    "seats_enable",
    "seats_undo",
    "seats_review",
)
KEEP_ACTION, RELEASE_ACTION = "seat_keep", "seat_release"
KEEP_MODAL, CONFIRM_MODAL = "seat_keep_reason", "seats_reclaim_confirm"
REASON_BLOCK, REASON_INPUT = "reason", "reason_input"
BLOCK_PREFIX = "seats:"
MAX_ROWS = 20  # people listed per connection (Slack: 50 blocks, 3,000 characters a section)
MAX_OPTIONS = 100  # Slack's multi-select limit

NO_CONNECTIONS = "No account is connected yet: `/quolum connect` first."
NO_IDLE = "No idle paid seats in {provider}'s latest report."
IDLE_UNKNOWN = "{provider} cannot tell who is idle (it has no per-person activity), so no seat is listed."
NOT_COLLECTED = "{provider} has not been collected yet: the next digest (or `quolum-bot usage collect`) will list its idle seats."
PROVIDER_ADMIN = "is an admin in {provider}"
EXEMPT = "on the exempt list"
KEPT_UNTIL = "kept until {until}{reason}"
NO_SUCH_CONNECTION = "That account is no longer connected."
NOT_IDLE = "`{user}` is not an idle seat in the latest report any more."
SKIPPED = "{name}: not asked, {why}."
NOT_A_MEMBER = "{name}: not asked, no Slack member has that email (link one with `/quolum seats link`)."
ASKED_ALREADY = "{name}: asked {when} already."
NOT_YOURS = "This question is not yours to answer."
ANSWERED_ALREADY = "You already answered: {answer}."
ANSWER_WORDS = {"keep": "Keep", "release": "Release", "none": "no answer"}
KEPT = "Thanks: you keep your {provider} seat. Nobody will ask you again before {until}."
RELEASED = (
    "Thanks: your {provider} seat will be given back. You will keep your account if the provider allows it."
)
ASK_TEXT = "Do you still need your {provider} seat?"
PICK_FIRST = "Choose people in the list first."


def day(moment: datetime) -> str:
    return blocks.slack_date(moment, blocks.DATE)


def reason_text(reason: str) -> str:
    return f": “{esc(reason)}”" if reason and reason != "kept" else ""


def price_text(row: SeatRow) -> str | None:
    if row.monthly_minor is None or not row.currency:
        return None
    return f"{money(row.monthly_minor, row.currency, row.locale)} a month"


def status(ask, reclaim, policy: Policy | None, now: datetime) -> str:
    """What happened to a seat so far, in a few words (pure)."""
    if reclaim is not None:
        if reclaim.state == "done":
            effective = f", leaves {esc(reclaim.effective)}" if reclaim.effective else ""
            return f"reclaimed {day(reclaim.done_at)}{effective}" if reclaim.done_at else "reclaimed"
        if reclaim.state in ("pending", "running"):
            return "being reclaimed"
        if reclaim.state == "undone":
            return "reclaim undone"
    if ask is None:
        return ""
    if ask.answer == "keep":
        return f"kept {day(ask.answered_at)}{reason_text(ask.reason or '')}"
    if ask.answer == "release":
        return f"released {day(ask.answered_at)}: ready to reclaim"
    if ask.answer == "none":
        return f"asked {day(ask.asked_at)}: no answer"
    reminded = f", reminded {ask.reminders}×" if ask.reminders else ""
    return f"asked {day(ask.asked_at)}{reminded}"


def row_line(row: SeatRow) -> str:
    who = f"<@{esc(row.slack_user)}>" if row.slack_user else f"*{esc(row.name)}*"
    parts = [who]
    if row.email and row.slack_user is None:
        parts.append(esc(row.email))
    if row.seat_type:
        parts.append(esc(row.seat_type))
    parts.append(f"last active {day(row.last_active)}" if row.last_active else "never active")
    if cost := price_text(row):
        parts.append(cost)
    if row.status:
        parts.append(f"_{row.status}_")
    if row.blocked:
        parts.append(f"_not reclaimed: {esc(row.blocked)}_")
    return " · ".join(parts)


def _option(row: SeatRow) -> dict:
    label = row.name if len(row.name) <= 70 else row.name[:69] + "…"
    return {"text": {"type": "plain_text", "text": label}, "value": row.user_id[:150]}


def connection_blocks(view: ConnectionSeats) -> list[dict]:
    title = f"*{esc(view.provider)}* · {esc(view.account)}"
    if view.idle_unknown or not view.rows:
        return [
            blocks.markdown(f"{title}\n{esc(view.idle_unknown or NO_IDLE.format(provider=view.provider))}")
        ]
    lines = [row_line(r) for r in view.rows[:MAX_ROWS]]
    more = len(view.rows) - MAX_ROWS
    text = (
        f"{title} — {len(view.rows)} idle paid seats\n"
        + "\n".join(lines)
        + (f"\n…and {more} more" if more > 0 else "")
    )
    out = [blocks.markdown(text[:3000])]
    choosable = [r for r in view.rows if not r.blocked][:MAX_OPTIONS]
    if not choosable:
        return out
    elements: list[dict] = [
        {
            "type": "multi_static_select",
            "action_id": PICK,
            "placeholder": {"type": "plain_text", "text": "Choose people"},
            "options": [_option(r) for r in choosable],
        },
        {
            "type": "button",
            "action_id": ASK,
            "text": {"type": "plain_text", "text": "Ask"},
            "value": str(view.connection_id),
        },
    ]
    if view.reclaim_verb:
        elements.append(
            {
                "type": "button",
                "action_id": RECLAIM if view.can_write else ENABLE,
                "style": "danger" if view.can_write else None,
                "text": {"type": "plain_text", "text": "Reclaim…" if view.can_write else "Enable reclaiming"},
                "value": str(view.connection_id),
            }
        )
        elements[-1] = {k: v for k, v in elements[-1].items() if v is not None}
    out.append({"type": "actions", "block_id": f"{BLOCK_PREFIX}{view.connection_id}", "elements": elements})
    notes = []
    if view.reclaim_note:
        notes.append(esc(view.reclaim_note))
    if view.reclaim_verb is None:
        notes.append(
            f"Quolum cannot give {esc(view.provider)} seats back: ask people, then remove them in {esc(view.provider)}."
        )
    if notes:
        out.append(blocks.context(" ".join(notes)))
    return out


def seats_message(views: Sequence[ConnectionSeats], savings: Savings | None = None) -> dict:
    if not views:
        return blocks.message(NO_CONNECTIONS)
    body: list[dict] = [blocks.header("Idle paid seats")]
    if savings is not None and (line := savings_line(savings)):
        body.append(blocks.context(line))
    for view in views:
        body.extend(connection_blocks(view))
        body.append(blocks.divider())
    idle = sum(len(v.rows) for v in views)
    return {"text": f"{idle} idle paid seats", "blocks": body[:50]}


def asked_reply(asked: Sequence[str], skipped: Sequence[str]) -> dict:
    lines = []
    if asked:
        lines.append(
            f"Asked {len(asked)}: "
            + ", ".join(esc(n) for n in asked)
            + ". Their answers will update one summary in your DMs."
        )
    lines.extend(skipped)
    return blocks.message("\n".join(lines) or PICK_FIRST)


# --- the ask DM ---------------------------------------------------------------------------------------
def ask_dm(ask_id: int, provider: str, account: str, row: SeatRow, *, reminder: int = 0) -> dict:
    since = (
        f"you have not used it since {day(row.last_active)}"
        if row.last_active
        else "we have no record of you using it"
    )
    seat = f" ({esc(row.seat_type)})" if row.seat_type else ""
    cost = f" It costs {price_text(row)}." if price_text(row) else ""
    lead = "A reminder: " if reminder else ""
    text = (
        f"{lead}{ASK_TEXT.format(provider=esc(provider))}\n"
        f"You hold a paid seat in {esc(provider)} · {esc(account)}{seat}, and {since}.{cost}\n"
        "*Keep* it if you need it; *Release* it and it goes back to the company."
    )
    return {
        "text": ASK_TEXT.format(provider=esc(provider)),
        "blocks": [
            blocks.markdown(text),
            {
                "type": "actions",
                "block_id": f"seat_ask:{ask_id}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": KEEP_ACTION,
                        "text": {"type": "plain_text", "text": "Keep"},
                        "value": str(ask_id),
                        "style": "primary",
                    },
                    {
                        "type": "button",
                        "action_id": RELEASE_ACTION,
                        "text": {"type": "plain_text", "text": "Release"},
                        "value": str(ask_id),
                    },
                ],
            },
        ],
    }


def answered_dm(reply: str) -> dict:
    return blocks.message(reply)


def keep_modal(ask_id: int, provider: str) -> dict:
    return {
        "type": "modal",
        "callback_id": KEEP_MODAL,
        "private_metadata": str(ask_id),
        "title": {"type": "plain_text", "text": "Keep the seat"},
        "submit": {"type": "plain_text", "text": "Keep"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            blocks.markdown(
                f"You keep your {esc(provider)} seat. Anything the admins should know? (optional)"
            ),
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Why you need it"},
                "element": {"type": "plain_text_input", "action_id": REASON_INPUT, "max_length": 300},
            },
        ],
    }


def summary(asks, names: Mapping[str, str], policy: Policy) -> dict:
    """The asking admin's summary, rewritten as answers come in."""
    counts = {"keep": 0, "release": 0, "none": 0, None: 0}
    lines = []
    for ask in asks:
        counts[ask.answer] = counts.get(ask.answer, 0) + 1
        provider = esc(names.get(ask.provider, ask.provider))
        state = {
            "keep": f"*Keep*{reason_text(ask.reason or '')}",
            "release": "*Release*: ready to reclaim",
            "none": "*no answer*",
        }.get(ask.answer, f"waiting{f' (reminded {ask.reminders}×)' if ask.reminders else ''}")
        lines.append(f"<@{esc(ask.slack_user_id)}> · {provider}: {state}")
    head = (
        f"You asked {len(asks)} {'person' if len(asks) == 1 else 'people'} about their idle seats: {counts['keep']} keep, "
        f"{counts['release']} release, {counts['none']} no answer, {counts[None]} waiting."
    )
    return blocks.message(head, [blocks.markdown(head), blocks.markdown("\n".join(lines)[:3000])])


# --- reclaiming -----------------------------------------------------------------------------------------
def confirm_modal(view: ConnectionSeats, rows: Sequence[SeatRow], metadata: str) -> dict:
    people = "\n".join(f"• {row_line(r)}" for r in rows[:30])
    saving = yearly_saving(rows) if view.saves_cost else None
    money_line = (
        f"Saves {saving} a year."
        if saving
        else (
            "Saves no seat cost: " + esc(view.reclaim_note)
            if not view.saves_cost
            else "No price set: the saving is counted in seats."
        )
    )
    text = (
        f"*{esc(view.reclaim_verb or '')}* in *{esc(view.provider)}* for {len(rows)}:\n{people}\n{money_line}"
    )
    return {
        "type": "modal",
        "callback_id": CONFIRM_MODAL,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Reclaim seats"},
        "submit": {"type": "plain_text", "text": "Reclaim"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [blocks.markdown(text[:3000])],
    }


def yearly_saving(rows: Iterable[SeatRow]) -> str | None:
    totals: dict[str, int] = {}
    locale = DEFAULT_LOCALE
    for row in rows:
        locale = row.locale
        if row.monthly_minor is not None and row.currency:
            totals[row.currency] = totals.get(row.currency, 0) + row.monthly_minor * 12
    return " + ".join(money(v, c, locale) for c, v in sorted(totals.items())) or None


def results_message(lines: Sequence[str], undo: Sequence[tuple[int, str]] = ()) -> dict:
    body = [blocks.markdown("\n".join(lines)[:3000] or "Nothing was reclaimed.")]
    if undo:
        body.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": UNDO,
                        "text": {"type": "plain_text", "text": f"Undo {esc(name)[:60]}"},
                        "value": str(rid),
                    }
                    for rid, name in undo[:5]
                ],
            }
        )
    return blocks.message("\n".join(lines)[:300] or "Nothing was reclaimed.", body)


def savings_line(savings: Savings) -> str | None:
    """ "Saved €1,560 a year since 1 Dec: 10 seats reclaimed" (None before the first)."""
    if not savings.seats or savings.since is None:
        return None
    seats = f"{savings.seats} seat{'s' if savings.seats != 1 else ''} reclaimed"
    if savings.yearly_minor:
        amount = " + ".join(money(v, c, savings.locale) for c, v in sorted(savings.yearly_minor.items()))
        return f"Saved {amount} a year since {day(savings.since)}: {seats}"
    return f"{seats.capitalize()} since {day(savings.since)}"


def review_button() -> dict:
    return {
        "type": "button",
        "action_id": REVIEW,
        "text": {"type": "plain_text", "text": "Review idle seats"},
        "value": "review",
    }


def audit_line(entry) -> str:
    actor = "Quolum" if entry.actor == "quolum" else f"<@{esc(entry.actor)}>"
    what = esc(entry.action.replace("_", " "))
    who = f" {esc(entry.subject)}" if entry.subject else ""
    detail = f" ({esc(entry.detail)})" if entry.detail else ""
    return f"{day(entry.at)} · {actor} · {what}{who}{detail}"
