"""Deterministic GitHub organisation data for the stand-in and for the tests that check it.

`generate_org(seed, login=..., now=...)` is pure: the same arguments give the same organisation.
Everything the stand-in serves comes from the returned `Org`; its truth (members, owners, Copilot
seats that are active, idle, never used or pending cancellation in a period) is counted here by
`copilot_truth(org, start, end)` without HTTP, so a test compares a collection with it.

Times are relative to `now` (the caller's clock), so the organisation looks the same on any date.
Copilot bills by calendar month here: a cancelled seat stays until the first day of the next month
(`next_cycle`), which is what GitHub reports as `pending_cancellation_date`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

PLAN_TYPES = ("business", "enterprise")
EDITORS = (
    "vscode/1.96.2/copilot/1.254.0",
    "JetBrains-IC/2024.3/copilot-intellij/1.5.30",
    "Neovim/0.10.2/copilot.vim/1.41.0",
    "copilot_pr_review",
    "GitHubGitHubCLI/2.63.0/gh-copilot/1.0.6",
)


@dataclass(frozen=True)
class Member:
    login: str
    id: int
    name: str
    role: str  # "admin" (an owner) | "member"
    public_email: str | None = None  # GitHub shows an email only if the person made it public

    def simple(self) -> dict[str, object]:
        """GitHub's `simple-user` for this member."""
        return {
            "login": self.login,
            "id": self.id,
            "node_id": f"MDQ6VXNlcj{self.id}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{self.id}?v=4",
            "gravatar_id": "",
            "url": f"https://api.github.com/users/{self.login}",
            "html_url": f"https://github.com/{self.login}",
            "type": "User",
            "site_admin": False,
            "user_view_type": "public",
        }


@dataclass(frozen=True)
class Seat:
    """One Copilot seat (GitHub's `copilot-seat-details`) of a member."""

    login: str
    created_at: datetime
    last_activity_at: datetime | None = None
    last_activity_editor: str | None = None
    pending_cancellation_date: date | None = None
    assigning_team: str | None = None  # granted through a team: cannot be cancelled per user


@dataclass
class Org:
    login: str
    id: int
    name: str
    plan_name: str
    plan_seats: int
    pending_invitations: int
    members: list[Member]
    seats: list[Seat]
    plan_type: str = "business"
    seat_management_setting: str = "assign_selected"
    copilot: bool = True  # False: no Copilot subscription (the Copilot endpoints answer 404)
    created_at: datetime = field(default_factory=lambda: datetime(2019, 4, 2, 9, 30, tzinfo=UTC))

    @property
    def filled_seats(self) -> int:
        """GitHub counts members and pending invitations as filled seats."""
        return len(self.members) + self.pending_invitations

    def member(self, login: str) -> Member | None:
        return next((m for m in self.members if m.login.lower() == login.lower()), None)

    def seat(self, login: str) -> Seat | None:
        return next((s for s in self.seats if s.login.lower() == login.lower()), None)

    def cancel(self, login: str, on: date) -> None:
        """Mark `login`'s seat pending cancellation on `on` (the start of the next cycle)."""
        self.seats = [replace(s, pending_cancellation_date=on) if s.login == login else s for s in self.seats]

    def drop_cancelled(self, today: date) -> None:
        """Seats whose cancellation date has come are gone (GitHub stops listing them)."""
        self.seats = [
            s
            for s in self.seats
            if s.pending_cancellation_date is None or s.pending_cancellation_date > today
        ]


def next_cycle(day: date) -> date:
    """The first day of the month after `day`: when a seat cancelled on `day` goes."""
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def cycle_start(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True)
class CopilotTruth:
    """What a collection over [start, end) must find, counted from the seed."""

    seats: int  # every billed seat, pending cancellation included
    active: tuple[str, ...]  # logins with activity in the period (or after it) and no cancellation
    idle: tuple[str, ...]  # no activity in the period: never, or before it; not pending cancellation
    never_used: tuple[str, ...]  # the idle ones with no activity at all
    pending: tuple[str, ...]  # pending cancellation: leaving, not idle
    owners: tuple[str, ...]  # organisation owners (role admin)
    members: int
    editors: dict[str, int]  # last_activity_editor -> seats (active ones)


def copilot_truth(org: Org, start: datetime, end: datetime) -> CopilotTruth:
    """The seats of `org` judged over [start, end) (aware datetimes), without HTTP."""
    pending = [s for s in org.seats if s.pending_cancellation_date is not None]
    billed = [s for s in org.seats if s.pending_cancellation_date is None]
    idle = [s for s in billed if s.last_activity_at is None or s.last_activity_at < start]
    active = [s for s in billed if s not in idle]
    editors: dict[str, int] = {}
    for seat in active:
        name = (seat.last_activity_editor or "").split("/")[0] or "unknown"
        editors[name] = editors.get(name, 0) + 1
    return CopilotTruth(
        seats=len(org.seats),
        active=tuple(sorted(s.login for s in active)),
        idle=tuple(sorted(s.login for s in idle)),
        never_used=tuple(sorted(s.login for s in idle if s.last_activity_at is None)),
        pending=tuple(sorted(s.login for s in pending)),
        owners=tuple(sorted(m.login for m in org.members if m.role == "admin")),
        members=len(org.members),
        editors=dict(sorted(editors.items())),
    )


_FIRST = (
    "ada", "bruno", "chen", "dalia", "emeka", "farah", "goran", "hana", "ivo", "jun", "kemi", "luca",
    "mira", "nils", "olu", "priya", "quinn", "rosa", "sven", "tara", "umar", "vera", "wen", "yara",
)  # fmt: skip
_LAST = (
    "abara", "berg", "costa", "dubois", "eriksen", "fischer", "garcia", "haddad", "ito", "jansen",
    "kowalski", "lindqvist", "moreau", "nakamura", "okafor", "petrov", "quispe", "rossi", "silva", "tanaka",
)  # fmt: skip


def _members(rng: random.Random, n: int, owners: int) -> list[Member]:
    members = []
    for i in range(n):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        login = f"{first}-{last}-{i:03d}"
        email = f"{first}.{last}{i}@example.com" if rng.random() < 0.3 else None
        role = "admin" if i < owners else "member"
        members.append(Member(login, 1000 + i, f"{first.title()} {last.title()}", role, email))
    return members


def generate_org(
    seed: int,
    *,
    login: str = "acme-corp",
    now: datetime,
    n_members: int = 300,
    n_seats: int = 180,
    owners: int = 4,
    plan_type: str = "business",
) -> Org:
    """A deterministic organisation of `n_members` (the first `owners` are owners) of whom `n_seats`
    hold a Copilot seat: about 60 % active in the last 25 days, 20 % idle for 40 to 300 days, 10 %
    never used, 10 % pending cancellation; a few seats come through a team."""
    if n_seats > n_members:
        raise ValueError("more Copilot seats than members")
    rng = random.Random(seed)
    members = _members(rng, n_members, owners)
    holders = rng.sample(members, n_seats)
    today = now.astimezone(UTC).date()
    seats = []
    for i, member in enumerate(holders):
        kind = rng.random()
        created = now - timedelta(days=rng.randint(60, 700), minutes=rng.randint(0, 1439))
        editor = rng.choice(EDITORS)
        team = "platform" if i % 23 == 0 else None
        if kind < 0.6:
            last = now - timedelta(days=rng.randint(0, 24), minutes=rng.randint(1, 1439))
            seats.append(Seat(member.login, created, last, editor, assigning_team=team))
        elif kind < 0.8:
            last = now - timedelta(days=rng.randint(40, 300), minutes=rng.randint(1, 1439))
            seats.append(Seat(member.login, created, max(last, created), editor, assigning_team=team))
        elif kind < 0.9:
            seats.append(Seat(member.login, created, assigning_team=team))
        else:
            last = now - timedelta(days=rng.randint(0, 120))
            seats.append(Seat(member.login, created, max(last, created), editor, next_cycle(today)))
    seats.sort(key=lambda s: s.created_at)  # GitHub lists the oldest assignment first
    filled = n_members + 3
    return Org(
        login=login,
        id=9_000_000 + seed,
        name=login.replace("-", " ").title(),
        plan_name="team",
        plan_seats=filled + 10,
        pending_invitations=3,
        members=members,
        seats=seats,
        plan_type=plan_type,
    )
