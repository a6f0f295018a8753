"""A seeded Slack workspace for the seat methods: members, guests of both kinds, bots, deactivated
members (one still billed when asked), billing and access logs, reproducible from a seed. The truth is
counted by `SlackStandIn.seats_truth` without HTTP."""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def seed_workspace(
    standin,
    team_id: str,
    *,
    now: datetime,
    n_users: int = 40,
    seed: int = 7,
    plan: str = "business_plus",
    still_billed: int = 0,
    owner: str | None = None,
) -> list[str]:
    """`n_users` people in `team_id` (ids `U<team><n>`), about 10% guests of each kind, 5% deactivated,
    two bots; each live billed member signs in somewhere in the last 60 days or never. Returns the ids."""
    rng = random.Random(seed)
    seats = standin.seats_of(team_id)
    seats.plan = plan
    ids = []
    prefix = team_id[1:]
    for n in range(n_users):
        user_id = f"U{prefix}{n:05d}"
        roll = rng.random()
        flags: dict = {"real_name": f"Person {n}"}
        if n == 0:
            flags.update(is_owner=True, is_primary_owner=True, is_admin=True)
        elif n == 1:
            flags["is_admin"] = True
        elif roll < 0.10:
            flags.update(is_restricted=True)
        elif roll < 0.20:
            flags.update(is_restricted=True, is_ultra_restricted=True)
        elif roll < 0.25:
            flags["deleted"] = True
        standin.add_user(user_id, team_id, **flags)
        ids.append(user_id)
        deleted = flags.get("deleted", False)
        single = flags.get("is_ultra_restricted", False)
        seats.billing[user_id] = not deleted and not single and rng.random() < 0.9
        if not deleted and rng.random() < 0.7:
            standin.log_access(
                team_id, user_id, now - timedelta(days=rng.uniform(0, 60)), count=rng.randint(1, 50)
            )
    for _ in range(still_billed):
        user_id = next(i for i in ids if standin.users[i].get("deleted") and not seats.billing.get(i))
        seats.billing[user_id] = True
    standin.add_user(f"B{prefix}BOT1", team_id, is_bot=True, real_name="Deploy bot")
    standin.add_user("USLACKBOT", team_id, real_name="Slackbot")
    if owner:
        seats.billing.setdefault(owner, True)
    standin.sort_logs(team_id)
    return ids
