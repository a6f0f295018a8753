"""Giving an idle Workspace licence back, and back again (the `reclaim`, `undo` and `protected` hooks).

``DELETE /apps/licensing/v1/product/Google-Apps/sku/{skuId}/user/{email}`` unassigns the licence (scope
apps.licensing): the user and their data stay, without the Workspace apps. 404: they hold no such
licence any more. ``POST …/sku/{skuId}/user`` with ``{"userId": email}`` assigns it again (undo).

The SKU is known by the name the licence listing gave (`InactiveSeat.seat_type`); the IDs are those of
Google's "Products and SKUs" page for the product ``Google-Apps``.

Never offered: super and delegated admins (`InactiveSeat.admin`), and the admin the key acts as.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.reports import InactiveSeat
from core.seats import SeatOutcome, SeatResult
from providers.google.entry import LICENCES, LICENSING
from providers.http import Auth, MissingScopes, ProviderError, ProviderHTTP, TransientError, Unauthorized
from providers.plugin import Connection

PRODUCT = "Google-Apps"
SKUS = {
    "Google Workspace Business Starter": "1010020027",
    "Google Workspace Business Standard": "1010020028",
    "Google Workspace Business Plus": "1010020025",
    "Google Workspace Enterprise Essentials": "1010060003",
    "Google Workspace Enterprise Starter": "1010020029",
    "Google Workspace Enterprise Standard": "1010020026",
    "Google Workspace Enterprise Plus (formerly G Suite Enterprise)": "1010020020",
    "Google Workspace Essentials (formerly G Suite Essentials)": "1010060001",
    "Google Workspace Enterprise Essentials Plus": "1010060005",
    "Google Workspace Frontline Starter": "1010020030",
    "Google Workspace Frontline Standard": "1010020031",
    "Google Workspace Frontline Plus": "1010020034",
}

ADMIN = "is a Google Workspace admin"
ACTS_AS = "is the admin Quolum acts as in Google Workspace"
DONE = "Unassigned {who}'s {sku} licence in Google Workspace: the user and their data stay."
GIVEN_BACK = "Gave {who} their {sku} licence back in Google Workspace."
GONE = "{who} no longer holds a {sku} licence: nothing changed."
UNKNOWN_SKU = "Quolum does not know the SKU ID of {sku}, so {who}'s licence was left alone."
NO_SCOPE = f"The service account may not change licences: {LICENSING} is not delegated to it."
ALREADY = "{who} already holds a Workspace licence again: nothing changed."
REFUSED = "Google refused to change {who}'s licence ({status}): nothing changed."
FAILED = "Google could not be reached to change {who}'s licence: it can be tried again."


def protected(connection: Connection, seat: InactiveSeat) -> str | None:
    if seat.admin:
        return ADMIN
    acting = str(connection.details.get("admin_email") or connection.credentials.get("admin_email") or "")
    if acting and (seat.email or "").lower() == acting.lower():
        return ACTS_AS
    return None


def _who(seat: InactiveSeat) -> str:
    return seat.name or seat.email or seat.user_id


def _failed(error: ProviderError, who: str) -> SeatResult:
    answer = f"{error.status or 'no answer'} {error.category or ''}".strip()
    if isinstance(error, MissingScopes):
        return SeatResult(SeatOutcome.MISSING_SCOPE, NO_SCOPE, answer=answer)
    if isinstance(error, TransientError | Unauthorized) or error.status == 429:
        return SeatResult(SeatOutcome.FAILED, FAILED.format(who=who), answer=answer)
    return SeatResult(SeatOutcome.REFUSED, REFUSED.format(who=who, status=error.status), answer=answer)


async def reclaim(
    http: ProviderHTTP, base_url: str, connection: Connection, auth: Auth, seat: InactiveSeat
) -> SeatResult:
    who, sku_name = _who(seat), seat.seat_type or "Workspace"
    sku = SKUS.get(sku_name)
    if sku is None or not seat.email:
        return SeatResult(SeatOutcome.NOT_SUPPORTED, UNKNOWN_SKU.format(sku=sku_name, who=who))
    url = f"{base_url}/apps/licensing/v1/product/{PRODUCT}/sku/{sku}/user/{seat.email}"
    try:
        response = await http.request(
            "DELETE", url, auth=auth, account_key=connection.account_key, bucket=LICENCES
        )
    except ProviderError as error:
        if error.status == 404 and not isinstance(error, TransientError):
            return SeatResult(SeatOutcome.GONE, GONE.format(who=who, sku=sku_name), answer="404 notFound")
        return _failed(error, who)
    return SeatResult(
        SeatOutcome.DONE,
        DONE.format(who=who, sku=sku_name),
        answer=str(response.status_code),
        undo={"product_id": PRODUCT, "sku_id": sku, "sku": sku_name, "email": seat.email},
    )


async def undo(
    http: ProviderHTTP,
    base_url: str,
    connection: Connection,
    auth: Auth,
    seat: InactiveSeat,
    given: Mapping[str, str],
) -> SeatResult:
    who = _who(seat)
    product, sku = given.get("product_id") or PRODUCT, given.get("sku_id") or SKUS.get(seat.seat_type or "")
    email, sku_name = given.get("email") or seat.email, given.get("sku") or seat.seat_type or "Workspace"
    if not sku or not email:
        return SeatResult(SeatOutcome.NOT_SUPPORTED, UNKNOWN_SKU.format(sku=sku_name, who=who))
    try:
        response = await http.request(
            "POST",
            f"{base_url}/apps/licensing/v1/product/{product}/sku/{sku}/user",
            auth=auth,
            account_key=connection.account_key,
            bucket=LICENCES,
            json={"userId": email},
        )
    except ProviderError as error:
        if error.status == 409 and not isinstance(error, TransientError):
            return SeatResult(SeatOutcome.GONE, ALREADY.format(who=who), answer="409 duplicate")
        return _failed(error, who)
    return SeatResult(
        SeatOutcome.DONE, GIVEN_BACK.format(who=who, sku=sku_name), answer=str(response.status_code)
    )
