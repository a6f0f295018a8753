"""The digest's spend line: what the connections with a priced contract cost a month, and how much of
it pays for idle seats. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from core.money import DEFAULT_LOCALE
from messages.digest import money

SPEND = "Spend on {count} contract{s}: *{spend}/month*{idle}"
IDLE = ", {idle} of it on idle seats"


def spend_line(totals: Mapping[str, tuple[int, int]], count: int, locale: str = DEFAULT_LOCALE) -> str | None:
    """ "Spend on 2 contracts: €4,500/month, €900/month of it on idle seats" (several currencies are
    added up apart, joined by +); None when no connection has a priced contract."""
    if not totals or not count:
        return None
    codes = sorted(totals)
    spend = " + ".join(money(totals[c][0], c, locale) for c in codes)
    idle_parts = [money(totals[c][1], c, locale) for c in codes if totals[c][1]]
    idle = IDLE.format(idle=" + ".join(f"{p}/month" for p in idle_parts)) if idle_parts else ""
    return SPEND.format(count=count, s="" if count == 1 else "s", spend=spend, idle=idle)
