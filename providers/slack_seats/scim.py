"""Deactivating an idle member through Slack's SCIM API (Business+ and Enterprise Grid).

``DELETE {SLACK_SCIM_URL}/scim/v2/Users/{id}`` with the admin's user token (`admin` scope) answers
204: the member is deactivated (Slack stops billing them; an admin can reactivate them, their
messages and files stay). Slack answers SCIM errors as ``{"schemas": [...Error], "detail", "status"}``
(its SCIM reference's example for v2.0), the detail one of the reference's error names: 404
`no_such_user` for a member already gone, 403 `plus_teams_only` where the plan has no SCIM, 401
`invalid_authentication` for a revoked token; 429 is waited out by `ProviderHTTP`. Where the plan has
no SCIM the seat action says *not supported* with the admin page's link, where an admin deactivates
by hand.

policy.py keeps the detail as the error's category: a 403 Slack explains as a refusal of this member
(`cannot_disable_primary_owner`, `primary_owner_check_failure`, an owner an admin's token may not
change) or of this token (`permission_denied`) is *refused*, naming Slack's reason, never *not
supported*.
"""

from __future__ import annotations

from urllib.parse import quote

from core.reports import InactiveSeat
from core.seats import SeatOutcome, SeatResult
from providers.errors import ProviderError, TransientError, Unauthorized
from providers.http import Auth, ProviderHTTP
from providers.slack_seats.entry import ADMIN_PAGE, SCIM

DONE = "Deactivated {who} in Slack: Slack stops billing their seat."
GONE = "{who} was already deactivated in Slack: nothing changed."
# plain text, the address bare (Slack links it): the sentence is escaped where it is shown, so a
# `<url|label>` link would reach the admin as `&lt;url|label&gt;`
NOT_SUPPORTED = (
    "Slack deactivates members through SCIM only on Business+ and Enterprise Grid: deactivate {who} "
    "under Manage members at {page} instead."
)
MISSING = "Deactivating {who} needs a workspace owner's or admin's consent: choose Connect Slack billing."
REFUSED = "Slack refused to deactivate {who} ({answer})."
FAILED = "Slack could not be reached to deactivate {who}; nothing changed. Try again later."
PROTECTED = "Quolum never deactivates {who}: they {reason}."
# 403s that refuse this member or this token (Slack's SCIM descriptions), not the plan
REFUSALS = frozenset(
    {
        "cannot_disable_primary_owner",
        "primary_owner_check_failure",
        "cannot_modify_owner",
        "permission_denied",
    }
)


def _who(seat: InactiveSeat) -> str:
    return seat.name or seat.email or seat.user_id


def refused(seat: InactiveSeat, reason: str) -> SeatResult:
    return SeatResult(SeatOutcome.REFUSED, PROTECTED.format(who=_who(seat), reason=reason), "protected")


def missing_admin(seat: InactiveSeat) -> SeatResult:
    return SeatResult(SeatOutcome.MISSING_SCOPE, MISSING.format(who=_who(seat)), "no admin scope")


def not_supported(seat: InactiveSeat, answer: str) -> SeatResult:
    return SeatResult(
        SeatOutcome.NOT_SUPPORTED, NOT_SUPPORTED.format(who=_who(seat), page=ADMIN_PAGE), answer
    )


async def deactivate(
    http: ProviderHTTP, auth: Auth, scim_url: str, account: str, seat: InactiveSeat
) -> SeatResult:
    """One DELETE; a retried one that meets 404 was done by the first (GONE)."""
    url = f"{scim_url}/scim/v2/Users/{quote(seat.user_id, safe='')}"
    who = _who(seat)
    try:
        response = await http.request("DELETE", url, auth=auth, account_key=account, bucket=SCIM)
    except TransientError as error:
        return SeatResult(SeatOutcome.FAILED, FAILED.format(who=who), str(error.status or "no answer"))
    except Unauthorized as error:
        return SeatResult(
            SeatOutcome.REFUSED,
            REFUSED.format(who=who, answer="token revoked"),
            f"401 {error.category or ''}".strip(),
        )
    except ProviderError as error:
        answer = f"{error.status} {error.message}"[:200]
        if error.status == 404:
            return SeatResult(SeatOutcome.GONE, GONE.format(who=who), answer)
        if error.status == 403 and error.category not in REFUSALS:
            return not_supported(seat, answer)
        reason = error.category or error.status
        return SeatResult(SeatOutcome.REFUSED, REFUSED.format(who=who, answer=reason), answer)
    return SeatResult(SeatOutcome.DONE, DONE.format(who=who), str(response.status_code))
