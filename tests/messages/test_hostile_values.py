"""Every message builder, with hostile text in every text field, says nothing live it did not mean.

The builders are found, not listed: every public function of every module in `messages/`. Each is
called with arguments built from its type hints, every `str` (also inside dataclasses, lists, dicts and
the usage report) set to one hostile value at a time, in each variant of the fields that choose a branch.
Then the text it shows (every `text` of the Block Kit, a returned string, a page) must hold none of the hostile values raw, and no more `<!`, `<@`, `<#` or
`<http` than the same call with harmless text of the same length: those few are the bot's own (a date
token, a mention of a user id, a link it made). A new builder is covered as soon as it exists; when its
arguments cannot be built from its hints, this test fails and says which one to add below.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime

import pytest
from starlette.responses import Response

import messages
from core.contracts import Contract
from core.periods import Period
from core.reports import (
    COUNT,
    SHARE,
    Account,
    Figure,
    InactiveSeat,
    Seats,
    Signals,
    Team,
    TeamSeats,
    Unavailable,
    UsageReport,
)
from core.seats import SeatRow
from messages import alerts, app_home, cards, views
from messages import digest as db
from providers.plugin import ProviderSpec
from providers.registry import INSTALLED as CATALOGUE
from storage.connections import CONNECTED, NEEDS_RECONNECT, ConnectionRecord
from storage.digests import Subscription
from storage.incidents import IncidentRecord
from storage.invitations import InvitationRecord
from storage.seat_rules import AuditEntry
from storage.seats import Ask, Reclaim

HOSTILE = (
    "<!channel>",
    "<!here>",
    "<@U123>",
    "<#C123>",
    "<http://evil.example|Click here>",
    "*bold*",
    "&amp;",
)
LIVE = re.compile(r"<(?:!|@|#|http)")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
VARIANTS = 4  # every field below that chooses a branch takes each of its values at least once

# Fields that choose a branch: they hold one of a few of our own words, not outside text.
CHOICES: dict[tuple[type, str], list] = {
    (alerts.AlertView, "kind"): list(alerts.HEADLINES),
    (IncidentRecord, "kind"): list(alerts.CARD_LINE),
    (db.ConnectionDigest, "state"): ["ok", "needs_reconnect", "unavailable", "ok"],
    (db.ConnectionDigest, "provider"): ["hubspot", "sendgrid"],
    (ConnectionRecord, "status"): [CONNECTED, NEEDS_RECONNECT],
    (Subscription, "status"): ["active", "paused"],
    ("pages", "kind"): ["ok", "error"],
    ("renewals", "action"): ["renewal_later", "renewal_renewed", "renewal_cancel"],
    (Ask, "answer"): ["keep", "release", "none", None],
    (Reclaim, "state"): ["done", "pending", "undone", "gone"],  # a CSS class the page chooses from the status
}
# Arguments and fields that are mrkdwn by contract: made by another builder (walked itself) or by the
# bot's own constants. A builder passes them on as they are.
MRKDWN = {
    ("blocks", "markdown", "text"),
    ("blocks", "context", "text"),
    ("blocks", "header", "text"),  # plain_text: Slack renders no mention there
    ("blocks", "message", "text"),
    ("blocks", "message", "blocks"),
    ("blocks", "help_message", "commands"),  # the command table's usage lines
    ("blocks", "slack_date", "tokens"),  # Slack's date tokens: the bot's own constants (blocks.DATE)
    ("digest", "fit", "lines"),
    ("digest", "offer_blocks", "note"),
    ("invite_blocks", "closed_dm", "text"),
    ("cards", "connections_card", "notice"),
    (cards.Row, "incident"),
    (app_home.HomeData, "subscriptions"),
    (app_home.HomeData, "incidents"),
    (app_home.HomeData, "last_digest"),
    (app_home.HomeData, "seats"),  # savings_line and audit_line, each walked itself
    ("seats", "answered_dm", "reply"),  # the sentence the service built (provider text escaped there)
    ("seats", "asked_reply", "skipped"),
    ("seats", "results_message", "lines"),
    (SeatRow, "status"),
    ("contracts", "notice_view", "text"),  # the handler's own sentences
    (db.DigestData, "savings"),  # seats.savings_line, walked itself  # seats.status, walked itself
    (db.DigestData, "spend"),  # spend.spend_line, walked itself
    (app_home.HomeData, "contracts"),  # app_home.contract_line, walked itself
    ("app_home", "contract_line", "price"),  # digest.money's text (escaped there), walked itself
}
# Parameters without a usable hint (duck-typed records) and what they are.
UNTYPED = {
    "entry": AuditEntry,
    "ask": Ask,
    "asks": list[Ask],
    "reclaim": Reclaim,
    "incident": IncidentRecord,
    "spec": ProviderSpec,
    "sub": Subscription,
    "until": datetime,
    "contract": Contract,
}
ELEMENTS = {(app_home.HomeData, "invitations"): InvitationRecord}
# The shapes builders take (messages/views.py), filled with what the services hand them.
CONCRETE = {
    views.ProviderView: ProviderSpec,
    views.ConnectionView: ConnectionRecord,
    views.InvitationView: InvitationRecord,
}


def report(text: str, provider: str) -> UsageReport:
    """A typed usage report whose every string is `text` (its period's zone aside: a real zone)."""
    counted = provider == "hubspot"  # seats with activity, or seats only counted

    def figure(value, kind=COUNT) -> Figure:
        return Figure(text, text, value, kind, of=2, note=text)

    team = Team(text, text)
    return UsageReport(
        team_id=text,
        provider=text,
        account=Account(text, text),
        period=Period(NOW.date(), NOW.date(), "UTC"),
        seats=Seats(
            total_users=9,
            paid_seats=7,
            active_users=3 if counted else None,
            active_paid_users=2 if counted else None,
            inactive_paid_users=(InactiveSeat(text, text, NOW, team, name=text, seat_type=text),),
            seat_types={text: 7},
            teams=(TeamSeats(team, 7, 2, 5),),
            noun=text,
            active_means=text,
        ),
        activity=(figure(3), figure(0.9, SHARE), figure(None)),
        capacity=(figure(1),),
        highlights=(figure(1), figure(0.5, SHARE)),
        summary=(figure(4), figure(0.9, SHARE)),
        per_user={text: {text: 1}},
        signals=Signals(used=(text,), unavailable=(Unavailable(text, text),)),
        details={text: text},
        collected_at=NOW,
    )


def builders() -> dict[str, typing.Callable]:
    found = {}
    for module in pkgutil.iter_modules(messages.__path__):
        loaded = importlib.import_module(f"messages.{module.name}")
        for name, obj in vars(loaded).items():
            if inspect.isfunction(obj) and obj.__module__ == loaded.__name__ and not name.startswith("_"):
                found[f"{module.name}.{name}"] = obj
    return found


class Maker:
    """Values for type hints, every string being `text`, branch-choosing fields set by `variant`."""

    def __init__(self, text: str, variant: int) -> None:
        self.text, self.variant = text, variant

    def value(self, hint, where: str, owner=None, field: str | None = None):
        if (owner, field) in CHOICES:
            options = CHOICES[(owner, field)]
            return options[self.variant % len(options)]
        if (owner, field) in MRKDWN:
            return trusted(hint)
        if (owner, field) in ELEMENTS:
            return [self.value(ELEMENTS[(owner, field)], where)]
        if field in ("report", "history"):  # a ConnectionDigest's, or a digest helper's argument
            made = report(self.text, ("hubspot", "sendgrid")[self.variant % 2])
            return made if field == "report" else [made, made]
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            return self.value(next(a for a in args if a is not type(None)), where, owner, field)
        if hint is str:
            return self.text
        if hint is bool:
            return self.variant % 2 == 0
        if hint is int:
            return 500
        if hint is float:
            return 0.5
        if hint is datetime:
            return NOW
        if hint is date:
            return NOW.date()
        if hint in CONCRETE:
            hint = CONCRETE[hint]
        if hint is ProviderSpec:
            return list(CATALOGUE.values())[self.variant % len(CATALOGUE)]
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return (self.value(args[0], where),)
            return tuple(self.value(a, where) for a in args)
        if origin in (list, Sequence, Iterable):
            return [self.value(args[0], where)]
        if hint is InactiveSeat:
            return InactiveSeat(self.text, self.text, NOW, name=self.text, seat_type=self.text)
        if origin is frozenset:
            return frozenset({self.value(args[0], where)})
        if origin in (dict, Mapping):
            return {self.value(args[0], where): self.value(args[1], where)}
        if hint is dict:
            return {self.text: self.text}
        if dataclasses.is_dataclass(hint):
            hints = typing.get_type_hints(hint)
            return hint(
                **{
                    f.name: self.value(hints[f.name], f"{where}.{f.name}", hint, f.name)
                    for f in dataclasses.fields(hint)
                }
            )
        raise LookupError(
            f"no value for {where} ({hint!r}): give it a hint, or add it to UNTYPED/CHOICES/MRKDWN here"
        )

    def arguments(self, name: str, builder) -> dict:
        module, function = name.split(".")
        hints = typing.get_type_hints(builder)
        out = {}
        for param in inspect.signature(builder).parameters.values():
            hint = hints.get(param.name, UNTYPED.get(param.name))
            if (module, function, param.name) in MRKDWN:
                out[param.name] = trusted(hint)
            else:
                out[param.name] = self.value(hint, f"{name}({param.name})", module, param.name)
        return out


def trusted(hint):
    """Mrkdwn the bot made, in the shape `hint` asks for."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return trusted(next(a for a in args if a is not type(None)))
    if origin in (list, Sequence, Iterable):
        element = args[0]
        if element is dict:
            return [{"type": "divider"}]
        if typing.get_origin(element) is tuple:
            return [tuple("*mrkdwn*" for _ in typing.get_args(element))]
        return ["*mrkdwn*"]
    return "*mrkdwn*"


def rendered(result) -> str:
    """What Slack (or the browser) shows: every `text` of a message or view, a string, a page."""
    if isinstance(result, Response):
        return result.body.decode()
    if isinstance(result, str):
        return result
    return "\n".join(texts(result))


def texts(node) -> Iterable[str]:
    """The shown text of Block Kit: the value of every "text" key (ids, urls and values are not shown)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from texts(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from texts(item)


def call(name: str, builder, text: str, variant: int) -> str:
    return rendered(builder(**Maker(text, variant).arguments(name, builder)))


def test_the_builders_are_found():
    found = builders()
    # the ones that take outside text are among them, so the walk below is not empty by accident
    for name in (
        "digest.digest_message",
        "alerts.alert_message",
        "alerts.reminder_message",
        "cards.state_line",
    ):
        assert name in found
    assert len(found) > 30


@pytest.mark.parametrize("name", sorted(builders()))
def test_no_hostile_text_is_live_in_any_builder(name):
    builder = builders()[name]
    for variant in range(VARIANTS):
        for text in HOSTILE:
            out = call(name, builder, text, variant)
            harmless = call(name, builder, "x" * len(text), variant)
            if text.startswith("<"):
                assert text not in out, f"{name} (variant {variant}) shows {text} raw: {out}"
            if text == "&amp;":
                assert "&amp;" not in out.replace("&amp;amp;", ""), f"{name} left &amp; unescaped: {out}"
            assert len(LIVE.findall(out)) == len(LIVE.findall(harmless)), (
                f"{name} (variant {variant}) with {text}: {LIVE.findall(out)} vs {LIVE.findall(harmless)}\n{out}"
            )
