"""A HubSpot portal's report parts from what was collected: activity and per-user counts merged
with owners and logins, and the seats (paid, active, inactive, by team). Pure: data in, data out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from core.reports import InactiveSeat, Seats, Team, TeamSeats
from providers.hubspot.figures import ACTIVE_MEANS, ACTIVE_MEANS_NO_LOGINS, HUBSPOT_FEATURES
from providers.hubspot.records import (
    LoginTally,
    TypeTally,
)
from providers.usage import SIGNAL_LOGINS, SeatUser, inactive_order, is_active, is_paid, seat_counts


def merge(
    tallies: list[TypeTally | None], owners: Mapping[str, str], logins: LoginTally | None
) -> tuple[dict[str, int | None], dict[str, Counter[str]]]:
    """Account-level features (None: unavailable) and per-user counts, owners resolved to users."""
    activity: dict[str, int | None] = dict.fromkeys(HUBSPOT_FEATURES, None)
    per_user: dict[str, Counter[str]] = {}
    for tally in tallies:
        if tally is None:
            continue
        activity.update(tally.activity())
        tally.add_per_user(per_user, owners)
    if logins is not None:
        activity[SIGNAL_LOGINS] = sum(logins.in_period.values())
        for user, count in logins.in_period.items():
            per_user.setdefault(user, Counter())[SIGNAL_LOGINS] = count
    return activity, per_user


def seats_of(
    users: list[SeatUser],
    billing_roles: set[str],
    per_user: Mapping[str, Counter[str]],
    logins: LoginTally | None,
    teams: Mapping[str, Team] | None,
) -> Seats:
    active = active_paid = paid = 0
    inactive: list[InactiveSeat] = []
    by_team: dict[str | None, list[int]] = {}  # team id -> [paid, active paid, inactive paid]
    nothing: Counter[str] = Counter()
    for user in users:
        counts = per_user.get(user.user_id, nothing)
        crm_actions = sum(n for feature, n in counts.items() if feature != SIGNAL_LOGINS)
        user_logins = logins.in_period.get(user.user_id, 0) if logins is not None else None
        is_user_active, _ = is_active(user_logins, crm_actions)
        user_paid = is_paid(user, billing_roles)
        active += is_user_active
        paid += user_paid
        active_paid += is_user_active and user_paid
        team = teams.get(user.team_id) if teams is not None and user.team_id is not None else None
        if user_paid and teams is not None:
            row = by_team.setdefault(team.id if team else None, [0, 0, 0])
            row[0] += 1
            row[1 if is_user_active else 2] += 1
        if user_paid and not is_user_active:
            last = logins.last_before_end.get(user.user_id) if logins is not None else None
            seat_type = ", ".join(user.seat_names) or None
            inactive.append(
                InactiveSeat(
                    user.user_id,
                    user.email,
                    last,
                    team,
                    name=user.name,
                    seat_type=seat_type,
                    admin=user.admin,
                )
            )
    return Seats(
        total_users=len(users),
        paid_seats=paid,
        active_users=active,
        active_paid_users=active_paid,
        inactive_paid_users=tuple(sorted(inactive, key=inactive_order)),
        seat_types=seat_counts([name for user in users for name in user.seat_names]),
        teams=None if teams is None else team_rows(by_team, teams),
        active_means=ACTIVE_MEANS if logins is not None else ACTIVE_MEANS_NO_LOGINS,
    )


def team_rows(by_team: Mapping[str | None, list[int]], teams: Mapping[str, Team]) -> tuple[TeamSeats, ...]:
    """Most inactive seats first, then by name; users in no team last."""
    rows = [
        TeamSeats(teams[team_id] if team_id is not None else None, *counts)
        for team_id, counts in by_team.items()
    ]
    return tuple(
        sorted(rows, key=lambda r: (r.team is None, -r.inactive_paid_users, r.team.name if r.team else ""))
    )
