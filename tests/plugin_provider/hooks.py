"""Seatly's hooks: verify a token, check it hourly, collect a report, read its failures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.config import Settings
from core.reports import COUNT, Account, Figure, InactiveSeat, Seats, Signals, UsageReport
from core.seats import SeatOutcome, SeatResult
from providers import failures
from providers.failures import Failure, Operation
from providers.http import Auth, Bearer, MissingScopes, ProviderError, ProviderHTTP, Unauthorized
from providers.plugin import BEARER, Checked, Connection, Verified
from tests.plugin_provider.entry import API_URL, SPEC


class SeatlyHooks:
    def __init__(self, http: ProviderHTTP, settings: Settings, *, clock=None) -> None:
        self.clock = clock
        self.http = http
        self.spec = SPEC
        self.url = (SPEC.setting(settings, API_URL) or "").rstrip("/")

    def classify(self, error: Exception, operation: Operation = "api") -> Failure:
        return failures.classify(error, operation, provider_name=SPEC.display_name)

    def base_url(self, credentials: Mapping[str, Any]) -> str:
        return self.url

    def reachable_urls(self) -> list[str]:
        return [self.url]

    async def _me(self, auth: Auth, account: str) -> dict:
        return await self.http.get_json(f"{self.url}{SPEC.verify_path}", auth=auth, account_key=account)

    async def access(self, credentials: Mapping[str, Any], account_key: str) -> list[str]:
        me = await self._me(Bearer(credentials[BEARER]), account_key)
        return [s for s in SPEC.required_scopes if s not in me.get("scopes", [])]

    # --- the credential form ---------------------------------------------------------------------
    def problem(self, name: str, value: str) -> str | None:
        return None if value.strip().startswith("st_") else "Seatly tokens start with st_."

    async def verify_form(self, values: Mapping[str, str]) -> Verified:
        token = values["token"].strip()
        me = await self._me(Bearer(token), "verify")
        scopes = tuple(me.get("scopes", []))
        return Verified(
            account_id=me["id"],
            account_name=me["name"],
            scopes=scopes,
            missing=tuple(s for s in SPEC.required_scopes if s not in scopes),
            credentials={BEARER: token},
        )

    def verify_failure(self, error: ProviderError) -> str:
        return "rejected" if isinstance(error, Unauthorized) else "failed"

    # --- health, collection ----------------------------------------------------------------------
    async def check(self, connection: Connection, auth: Auth, now: datetime) -> Checked:
        try:
            await self._me(Bearer(connection.credentials[BEARER]), connection.account_key)
        except ProviderError as error:
            return Checked(self.classify(error, "api"))
        return Checked()

    @staticmethod
    async def collect(http, auth, *, base_url, team_id, account_id, account_name, period, scopes, clock):
        body = await http.get_json(f"{base_url}/v1/seats", auth=auth, account_key=account_id)
        seats = body["seats"]
        active = sum(1 for seat in seats if seat["active"])
        idle = tuple(
            InactiveSeat(
                user_id=s["id"],
                email=s["email"],
                last_active=None,
                name=s["name"],
                seat_type="Seat",
                admin=s.get("admin", False),
            )
            for s in seats
            if not s["active"]
        )
        return UsageReport(
            team_id=team_id,
            provider=SPEC.key,
            account=Account(id=account_id, name=account_name),
            period=period,
            seats=Seats(
                total_users=len(seats),
                paid_seats=len(seats),
                active_users=active,
                active_paid_users=active,
                inactive_paid_users=idle,
                noun="members",
                active_means="used Seatly in the period",
            ),
            activity=(used := (Figure("seats_used", "Seats used", active, kind=COUNT),)),
            summary=used,
            signals=Signals(used=("seats",)),
            collected_at=clock(),
        )

    # --- seats ------------------------------------------------------------------------------------
    def protected(self, connection: Connection, seat: InactiveSeat) -> str | None:
        return "is a Seatly admin" if seat.admin else None

    async def _write(self, method: str, path: str, auth: Auth, connection: Connection) -> SeatResult | None:
        """None when Seatly did it; else what it said, as a result."""
        try:
            await self.http.request(
                method, f"{self.url}{path}", auth=auth, account_key=connection.account_key
            )
        except MissingScopes:
            return SeatResult(
                SeatOutcome.MISSING_SCOPE, "Seatly refused: the token may not change seats.", "403"
            )
        except ProviderError as error:
            if error.status == 403:
                return SeatResult(
                    SeatOutcome.MISSING_SCOPE, "Seatly refused: the token may not change seats.", "403"
                )
            if error.status == 404:
                return SeatResult(SeatOutcome.GONE, "Seatly has no such seat any more.", "404")
            if error.status == 409:
                return SeatResult(SeatOutcome.REFUSED, "Seatly refused: admins keep their seats.", "409")
            return SeatResult(SeatOutcome.FAILED, f"Seatly answered {error.status}.", str(error.status))
        return None

    async def reclaim(self, connection: Connection, auth: Auth, seat: InactiveSeat) -> SeatResult:
        refused = await self._write("DELETE", f"/v1/seats/{seat.user_id}", auth, connection)
        name = seat.name or seat.user_id
        return refused or SeatResult(
            SeatOutcome.DONE, f"Removed {name}'s Seatly seat.", "204", undo={"id": seat.user_id}
        )

    async def undo(
        self, connection: Connection, auth: Auth, seat: InactiveSeat, undo: Mapping[str, str]
    ) -> SeatResult:
        refused = await self._write("POST", f"/v1/seats/{undo['id']}/restore", auth, connection)
        return refused or SeatResult(SeatOutcome.DONE, f"{seat.name} has the Seatly seat again.", "204")
