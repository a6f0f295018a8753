"""Slack seats' hooks: connecting with the workspace's bot token, *Connect Slack billing* (OAuth v2
with `user_scope=admin,users:read` through the bot's own Slack app), the hourly check, collection
(usage.py), failures (policy.py) and deactivating an idle member through SCIM (scim.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

from core.clock import utcnow
from core.config import Settings
from core.reports import InactiveSeat
from core.seats import SeatResult
from providers.errors import MissingScopes, ProviderError, TransientError, Unauthorized
from providers.failures import Failure, Operation
from providers.http import Auth, Bearer, ProviderHTTP
from providers.plugin import BEARER, Account, Checked, Connection, ProviderSpec, Verified
from providers.slack_seats import scim
from providers.slack_seats.api import answer, call, granted
from providers.slack_seats.entry import (
    ADMIN,
    API_URL,
    BILLING,
    BOT_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    DEFAULT_API,
    DEFAULT_SCIM,
    KEY,
    SCIM_URL,
    SPEC,
    USER_SCOPES,
    USERS,
    USERS_READ,
)
from providers.slack_seats.policy import PROVIDER, classify
from providers.slack_seats.usage import NEEDS_ADMIN, collect_slack_seats

Kind = Literal["rejected", "unavailable", "failed"]
VERIFY = "verify"  # rate-limit key before the workspace is known
NO_TOKEN = "Quolum has no bot token for this workspace: reinstall the Quolum app, then try again."
NO_USERS_READ = (
    "The bot token cannot list members: add the `users:read` bot scope to the Quolum Slack app and "
    "reinstall it, then connect again."
)
REJECTED = "Slack did not accept the bot token ({code}): reinstall the Quolum app, then try again."
UNAVAILABLE = "Slack is not answering right now; nothing was saved. Please try again in a few minutes."
FAILED = "Slack refused to list the members ({code}); nothing was saved."
NOT_ADDED = (
    "an org owner or admin adds Quolum to {workspace} in the organisation's settings (Organization "
    "settings, Apps), then connects Slack billing again."
)
PROTECTED_ADMIN = "is a Slack workspace owner or admin"
PROTECTED_GRANTER = "connected Slack billing to Quolum"
PROTECTED_CONNECTOR = "connected Slack to Quolum"


@dataclass(frozen=True)
class TokenSet:
    """An admin's user token from oauth.v2.access (`authed_user`)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int | None
    scopes: tuple[str, ...]
    user_id: str | None = None
    team_id: str | None = None

    def credentials(self, previous_refresh_token: str | None = None) -> dict:
        """Stored beside the form's bot token: the user token is the bearer from now on."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token or previous_refresh_token,
        }


def verify_failure(error: ProviderError) -> Kind:
    if isinstance(error, TransientError) or error.status == 429:
        return "unavailable"
    if isinstance(error, Unauthorized | MissingScopes):
        return "rejected"
    return "failed"


def failure_sentence(error: ProviderError) -> str:
    kind = verify_failure(error)
    if kind == "rejected":
        return NO_USERS_READ if isinstance(error, MissingScopes) else REJECTED.format(code=error.category)
    return UNAVAILABLE if kind == "unavailable" else FAILED.format(code=error.category or error.status)


def authorize_base(api_url: str) -> str:
    """Slack's consent page beside its Web API: https://slack.com/api/ → https://slack.com/oauth/v2/authorize
    (a stand-in's too)."""
    root = api_url.rstrip("/").removesuffix("/api")
    return f"{root}/oauth/v2/authorize"


class SlackSeatsHooks:
    """Slack seats' hooks (providers/plugin.py `Hooks`)."""

    collect = staticmethod(collect_slack_seats)

    def __init__(
        self, http: ProviderHTTP, settings: Settings, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.clock = clock
        self.http = http
        self.spec: ProviderSpec = SPEC
        self.api = (settings.value(API_URL) or DEFAULT_API).rstrip("/") + "/"
        self.scim = (SPEC.setting(settings, SCIM_URL) or DEFAULT_SCIM).rstrip("/")
        self.client_id = settings.value(CLIENT_ID) or ""
        self._client_secret = settings.value(CLIENT_SECRET) or ""
        self.redirect_uri = f"{settings.public_url}/oauth/{KEY}/callback"

    def classify(self, error: Exception, operation: Operation = "api") -> Failure:
        return classify(error, operation)

    def base_url(self, credentials: Mapping[str, Any]) -> str:
        return self.api

    def reachable_urls(self) -> list[str]:
        return [self.api, f"{self.scim}/"]  # doctor appends the verify path: any answer counts

    async def access(self, credentials: Mapping[str, Any], account_key: str) -> list[str]:
        token = credentials.get("access_token") or credentials.get(BEARER) or ""
        return list(await self._lacking(token, "", account_key))

    async def _lacking(self, token: str, team_id: str, account: str, **kwargs: Any) -> tuple[str, ...]:
        """What one member's listing says the token lacks: `users:read`, or nothing."""
        params = {"limit": 1} | ({"team_id": team_id} if team_id else {})
        try:
            await call(
                self.http,
                Bearer(token),
                self.api,
                "users.list",
                params,
                account=account,
                bucket=USERS,
                **kwargs,
            )
        except MissingScopes:
            return (USERS_READ,)
        return ()

    # --- the credential form: the workspace's bot token -------------------------------------------
    def problem(self, name: str, value: str) -> str | None:
        return NO_TOKEN if name == BOT_TOKEN and not (value or "").strip() else None

    def verify_failure(self, error: ProviderError) -> Kind:
        return verify_failure(error)

    def verify_message(self, error: ProviderError) -> str:
        return failure_sentence(error)

    async def verify_form(self, values: Mapping[str, str]) -> Verified:
        """auth.test names the workspace (and its Grid org); users.list proves `users:read`."""
        token = (values.get(BOT_TOKEN) or "").strip()
        quick = {"timeout": 8.0, "max_retries": 1}
        who = await answer(
            self.http, Bearer(token), self.api, "auth.test", {}, account=VERIFY, bucket=None, **quick
        )
        body = who.json()
        team_id = str(body.get("team_id") or "")
        scopes = granted(who)
        missing = await self._lacking(token, team_id, team_id or VERIFY, **quick)
        details = {"enterprise_id": body.get("enterprise_id"), "bot_user_id": body.get("user_id")}
        return Verified(
            account_id=team_id or None,
            account_name=str(body.get("team") or "") or None,
            scopes=tuple(s for s in scopes if s != ADMIN),
            missing=missing,
            missing_sentence=NO_USERS_READ if missing else NEEDS_ADMIN,
            credentials={BEARER: token},
            details={k: v for k, v in details.items() if v},
        )

    # --- Connect Slack billing: OAuth v2 with user scopes -----------------------------------------
    def authorize_url(self, state: str, write: bool = False) -> str:
        """Slack's consent page for the admin's user token (`admin` reads billing and logins and
        deactivates through SCIM: one scope, so `write` asks nothing more)."""
        query = {
            "client_id": self.client_id,
            "user_scope": ",".join(USER_SCOPES),
            "redirect_uri": self.redirect_uri,
            "state": state,
        }
        return f"{authorize_base(self.api)}?{urlencode(query)}"

    async def _token(self, form: dict) -> dict:
        data = {"client_id": self.client_id, "client_secret": self._client_secret, **form}
        response = await self.http.request(
            "POST", f"{self.api}oauth.v2.access", auth=None, account_key="oauth", max_retries=1, data=data
        )
        body = response.json() if response.content else {}
        if not isinstance(body, dict) or body.get("ok") is not True:
            error = str((body or {}).get("error") or "unknown_error")
            raise ProviderError(
                f"Slack answered oauth.v2.access with {error}",
                provider=PROVIDER,
                status=400,
                oauth_error=error,
            )
        return body

    async def exchange(self, code: str) -> TokenSet:
        body = await self._token({"code": code, "redirect_uri": self.redirect_uri})
        return _user_tokens(body)

    async def refresh(self, refresh_token: str) -> TokenSet:
        """Only with token rotation on (a refresh token was stored): a new user token."""
        body = await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})
        return _user_tokens(body)

    async def revoke(self, token: str) -> None:
        await call(self.http, Bearer(token), self.api, "auth.revoke", {}, account="oauth", bucket=None)

    async def account(self, access_token: str) -> Account:
        """The workspace the admin's token reaches, and who granted it (never reclaimed)."""
        who = await answer(
            self.http, Bearer(access_token), self.api, "auth.test", {}, account=VERIFY, bucket=None
        )
        body = who.json()
        return Account(
            account_id=str(body.get("team_id") or ""),
            name=str(body.get("team") or ""),
            scopes=granted(who),
            details={
                "billing_admin": body.get("user_id"),
                "enterprise_id": body.get("enterprise_id"),
                "org_wide": body.get("is_enterprise_install") is True,  # an org admin's token (Grid)
            },
        )

    async def grant_account(self, access_token: str, connection: Connection) -> Account:
        """`account`, knowing the workspace the grant adds to. An org admin's token from an org-wide
        install (Enterprise Grid: `is_enterprise_install`, auth.test's `team_id` the org's `E…`) reaches
        every workspace the app was added to and names one on each call (`team_id`): it is this
        workspace's grant when it reads this workspace's members; else it stays the org's account,
        which the connection refuses (the token is given back)."""
        account = await self.account(access_token)
        workspace = connection.account_id or ""
        if not account.details.get("org_wide") or not workspace or account.account_id == workspace:
            return account
        try:
            await answer(
                self.http,
                Bearer(access_token),
                self.api,
                "users.list",
                {"limit": 1, "team_id": workspace},
                account=workspace,
                bucket=USERS,
            )
        except ProviderError as error:
            if error.category not in ("team_access_not_granted", "missing_scope"):
                raise
            # the org's account, refused by the connection: the fix is in the org, not a new sign-in
            return replace(
                account, refused_advice=NOT_ADDED.format(workspace=connection.account_name or workspace)
            )
        return replace(account, account_id=workspace, name=connection.account_name or account.name)

    # --- health -----------------------------------------------------------------------------------
    async def check(self, connection: Connection, auth: Auth, now: datetime) -> Checked:
        """users.list (one member) with the connection's token; with the admin's grant, team.billableInfo too."""

        def one(method: str, bucket: str):  # the cheapest read: one item, of this workspace
            params = {"limit": 1, "team_id": connection.account_id or ""}
            return answer(
                self.http, auth, self.api, method, params, account=connection.account_key, bucket=bucket
            )

        try:
            response = await one("users.list", USERS)
        except ProviderError as error:
            return Checked(self.classify(error), reason=str(error))
        scopes = granted(response) or None
        if ADMIN in connection.scopes and scopes is not None and ADMIN not in scopes:
            lost = self.classify(
                ProviderError("admin", provider=PROVIDER, category="missing_scope", sub_category=ADMIN)
            )
            return Checked(lost, scopes=scopes, unavailable=(ADMIN,), reason="the admin scope was removed")
        if ADMIN in (scopes or connection.scopes):
            try:
                await one("team.billableInfo", BILLING)
            except ProviderError as error:
                failure = self.classify(error)
                if failure.kind != "scope_lost":
                    return Checked(failure, reason=str(error))
                return Checked(failure, scopes=scopes, unavailable=(ADMIN,), reason=str(error))
        return Checked(scopes=scopes)

    # --- seats ------------------------------------------------------------------------------------
    def protected(self, connection: Connection, seat: InactiveSeat) -> str | None:
        if seat.admin:
            return PROTECTED_ADMIN
        if seat.user_id and seat.user_id == connection.details.get("billing_admin"):
            return PROTECTED_GRANTER
        if seat.user_id and seat.user_id == connection.connected_by:
            return PROTECTED_CONNECTOR
        return None

    async def reclaim(self, connection: Connection, auth: Auth, seat: InactiveSeat) -> SeatResult:
        if (reason := self.protected(connection, seat)) is not None:
            return scim.refused(seat, reason)
        if ADMIN not in connection.scopes:
            return scim.missing_admin(seat)
        return await scim.deactivate(self.http, auth, self.scim, connection.account_key, seat)


def _user_tokens(body: dict) -> TokenSet:
    user = body.get("authed_user") or {}
    token = user.get("access_token")
    if not isinstance(token, str) or not token:
        raise ProviderError(
            "Slack answered without an admin's user token",
            provider=PROVIDER,
            status=400,
            oauth_error="no_user_token",
        )
    scopes = tuple(s for s in str(user.get("scope") or "").split(",") if s)
    expires = user.get("expires_in")
    return TokenSet(
        access_token=token,
        refresh_token=user.get("refresh_token") or None,
        expires_in=int(expires) if isinstance(expires, int | str) and str(expires).isdigit() else None,
        scopes=scopes,
        user_id=user.get("id"),
        team_id=(body.get("team") or {}).get("id"),
    )
