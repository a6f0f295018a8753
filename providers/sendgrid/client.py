"""SendGrid hooks the catalogue cannot express: the shape of a pasted API key, verifying a key, and
probing a stored key's health.

SendGrid has no third-party OAuth: a person creates a restricted, read-only API key and pastes it.

- `key_problem(text)` (pure) says what is wrong with what was pasted, in a sentence, or None. It
  checks the shape only (``SG.<id>.<secret>``, SendGrid's keys are 69 characters); SendGrid decides.
- `SendGridClient.verify(key, region)` asks ``GET /v3/scopes`` what the key may read, then, when the
  key may, who the account is (``/v3/user/username``) and its plan (``/v3/user/account``).
- `SendGridClient.health(key, base_url, today)` re-reads the scopes and probes one endpoint per
  feature: 401 means the key was deleted (Reconnect), 403 that one feature is unavailable.

Every call goes through the shared `ProviderHTTP`: its errors never hold the key.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from core.clock import utcnow
from core.config import Settings
from core.reports import InactiveSeat
from core.seats import SeatResult
from providers import failures
from providers.failures import Failure, Operation
from providers.http import (
    Auth,
    Bearer,
    MissingScopes,
    ProviderError,
    ProviderHTTP,
    TransientError,
    Unauthorized,
)
from providers.plugin import Checked, Connection, ProviderSpec, Verified
from providers.sendgrid import seat_actions
from providers.sendgrid.entry import API_URL, DEFAULT_REGION, KEY, KEY_LENGTH, MAX_KEY_LENGTH, SPEC
from providers.sendgrid.usage import collect_sendgrid

KEY_SHAPE = re.compile(r"SG\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
KEY_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{22}")  # the "API Key ID" SendGrid lists; not the key
IDENTITY_SCOPE = "user.username.read"  # optional: names the account on the Connections card
IDENTITY_PURPOSE = "name the account on the Connections card"
ACCOUNT_SCOPE = "user.account.read"
PICK_REGION = "Choose where your SendGrid account is."
VERIFY_ACCOUNT = "verify"  # rate-limit key before the account is known (SendGrid has no proactive buckets)

KEY_EMPTY = "Paste the API key SendGrid showed you when you created it."
KEY_HAS_SPACES = "The key contains spaces or line breaks: copy it again, in one piece."
KEY_LOOKS_LIKE_ID = (
    "This looks like the key's ID, not the key itself. SendGrid shows the key (it starts with SG.) "
    "only once, when it is created: create a new one if you no longer have it."
)
KEY_NOT_SG = "SendGrid API keys start with SG. — this does not look like one."
KEY_MALFORMED = (
    f"This does not look like a whole SendGrid API key: they look like SG.xxxx.yyyy, {KEY_LENGTH} characters."
)
KEY_TOO_LONG = f"This is longer than any SendGrid API key ({KEY_LENGTH} characters)."


def normalise_key(text: str | None) -> str:
    """What we send and store: the pasted text without surrounding whitespace."""
    return (text or "").strip()


def key_problem(text: str | None) -> str | None:
    """A sentence saying why `text` cannot be a SendGrid API key, or None when it may be one."""
    key = normalise_key(text)
    if not key:
        return KEY_EMPTY
    if len(key) > MAX_KEY_LENGTH:
        return KEY_TOO_LONG
    if any(ch.isspace() for ch in key):
        return KEY_HAS_SPACES
    if not key.startswith("SG."):
        return KEY_LOOKS_LIKE_ID if KEY_ID_SHAPE.fullmatch(key) else KEY_NOT_SG
    if not KEY_SHAPE.fullmatch(key):
        return KEY_MALFORMED
    return None


# SendGrid gives every key these by itself, whatever access was chosen: they grant nothing to change.
NEUTRAL_SCOPES = frozenset(
    {"2fa_exempt", "2fa_required", "sender_verification_eligible", "sender_verification_exempt"}
)


def is_write_scope(scope: str) -> bool:
    """Scopes that can change something (SendGrid names read access `*.read`)."""
    return not scope.endswith(".read") and scope not in NEUTRAL_SCOPES


ApiKey = Bearer  # a SendGrid API key is sent as a bearer token


@dataclass(frozen=True)
class KeyInfo:
    """What a verified key may read, and the account it belongs to (when the key may say)."""

    scopes: tuple[str, ...]
    missing: tuple[str, ...]  # catalogue scopes the key lacks: those features are unavailable
    user_id: str | None = None
    username: str | None = None
    account_type: str | None = None  # "free" | "paid"
    reputation: float | None = None
    write_scopes: tuple[str, ...] = ()  # the key can do more than read

    @property
    def details(self) -> dict:
        return {
            "username": self.username,
            "account_type": self.account_type,
            "reputation": self.reputation,
        }


@dataclass(frozen=True)
class Health:
    """A stored key's state: `ok` (with the features it may not read), `revoked` or `unknown`."""

    status: Literal["ok", "revoked", "unknown", "skipped"]
    scopes: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()
    reason: str | None = None
    unknown: tuple[str, ...] = ()  # features whose probe failed for another reason (no change made)


Kind = Literal["rejected", "unavailable", "failed"]
REVOKED_REASON = (
    "SendGrid no longer accepts the API key (it was deleted or revoked): reconnect with a new key"
)


def verify_failure(error: ProviderError) -> Kind:
    """`rejected`: the key is the problem (401, or may read nothing); `unavailable`: SendGrid is
    down, slow or rate limiting; `failed`: anything else (a refused request, a bad answer)."""
    if isinstance(error, Unauthorized | MissingScopes):
        return "rejected"
    if isinstance(error, TransientError):
        return "unavailable"
    return "failed"


def resolve(settings: Settings) -> ProviderSpec:
    """The entry with SENDGRID_API_URL (a stand-in) replacing every region's URL."""
    override = (settings.value(API_URL) or "").rstrip("/")
    return replace(SPEC, regions={name: override for name in SPEC.regions}) if override else SPEC


class SendGridClient:
    """SendGrid's hooks (providers/plugin.py `Hooks`): verifying and checking a key, collection,
    failures. `timeout`: seconds per request while a person waits in a modal (the daily health
    probe uses the HTTP layer's default)."""

    collect = staticmethod(collect_sendgrid)

    def __init__(
        self,
        http: ProviderHTTP,
        settings: Settings,
        *,
        timeout: float = 8.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.clock = clock
        self.http = http
        self.spec: ProviderSpec = resolve(settings)
        self.override = (settings.value(API_URL) or "").rstrip("/") or None
        self.timeout = timeout

    def classify(self, error: Exception, operation: Operation = "api") -> Failure:
        return failures.classify(error, operation, provider_name=SPEC.display_name)

    # --- seats (providers/sendgrid/seat_actions.py; no undo) -------------------------------------
    def protected(self, connection: Connection, seat: InactiveSeat) -> str | None:
        return seat_actions.protected(connection, seat)

    async def reclaim(self, connection: Connection, auth: Auth, seat: InactiveSeat) -> SeatResult:
        return await seat_actions.reclaim(self, connection, auth, seat)

    def base_url(self, credentials: Mapping[str, Any]) -> str:
        """Where a stored key's collection goes: SENDGRID_API_URL, else the URL stored with it."""
        return self.override or credentials.get("base_url") or SPEC.api_base_url

    def reachable_urls(self) -> list[str]:
        return list(dict.fromkeys(self.spec.regions.values()))

    async def access(self, credentials: Mapping[str, Any], account_key: str) -> list[str]:
        granted = await self.scopes(
            credentials["api_key"], self.base_url_for(credentials), account=account_key
        )
        return [scope for scope in self.spec.required_scopes if scope not in granted]

    def problem(self, name: str, value: str) -> str | None:
        """Why a form field's value cannot be right (a sentence), before asking SendGrid."""
        if name == "api_key":
            return key_problem(value)
        return None if value in self.spec.regions else PICK_REGION

    async def verify_form(self, values: Mapping[str, str]) -> Verified:
        """The credential form's hook: verify the pasted key (raises `ProviderError`, see
        `verify_failure`), and what to store."""
        api_key, region = normalise_key(values.get("api_key")), values.get("region") or DEFAULT_REGION
        info = await self.verify(api_key, region)
        return Verified(
            account_id=info.user_id,
            account_name=info.username,
            scopes=info.scopes,
            missing=info.missing,
            write_scopes=info.write_scopes,
            details={**info.details, "region": region},
            credentials={
                "api_key": api_key,
                "region": region,
                "base_url": self.base_url_for({"region": region}),
            },
        )

    def verify_failure(self, error: ProviderError) -> Kind:
        return verify_failure(error)

    async def check(self, connection: Connection, auth: Auth, now: datetime) -> Checked:
        """The hourly check: 401 -> revoked (reconnect with a new key); 403 -> that feature unavailable."""
        api_key = connection.credentials.get("api_key")
        if not api_key:
            return Checked(Failure("transient", "SendGrid is not answering"), reason="no key stored")
        health = await self.health(
            api_key,
            self.base_url_for(connection.credentials),
            today=now.date(),
            account=connection.account_key,
        )
        if health.status == "revoked":
            return Checked(Failure("revoked", REVOKED_REASON))
        if health.status != "ok":
            return Checked(Failure("transient", "SendGrid is not answering"), reason=health.reason)
        return Checked(scopes=health.scopes, unavailable=health.unavailable, unknown=health.unknown)

    @property
    def regions(self) -> list[str]:
        return list(self.spec.regions)

    def region_url(self, region: str) -> str:
        """The API base URL for `region` (SENDGRID_API_URL overrides every region)."""
        try:
            return self.spec.regions[region].rstrip("/")
        except KeyError:
            raise ValueError(f"unknown SendGrid region {region!r}") from None

    def base_url_for(self, credentials: dict) -> str:
        """Where a stored key is used: its region as configured now, else the URL stored with it."""
        region = credentials.get("region")
        if region in self.spec.regions:
            return self.region_url(region)
        return str(credentials.get("base_url") or self.region_url(DEFAULT_REGION)).rstrip("/")

    async def _get(self, base: str, path: str, auth: ApiKey, account: str, **kwargs: Any) -> Any:
        return await self.http.get_json(f"{base}{path}", auth=auth, account_key=account, **kwargs)

    async def scopes(self, api_key: str, base: str, *, account: str = VERIFY_ACCOUNT, **kwargs) -> list[str]:
        body = await self._get(base, self.spec.verify_path, ApiKey(api_key), account, **kwargs)
        scopes = body.get("scopes") if isinstance(body, dict) else None
        if not isinstance(scopes, list):
            raise ProviderError("SendGrid answered GET /v3/scopes without a scope list.", provider=KEY)
        return [s for s in scopes if isinstance(s, str)]

    async def verify(self, api_key: str, region: str) -> KeyInfo:
        """Raise a `ProviderError` (see `classify`) when the key cannot be used; else what it may read."""
        base = self.region_url(region)
        quick = {"timeout": self.timeout, "max_retries": 1}  # a person is waiting
        scopes = await self.scopes(api_key, base, **quick)
        auth = ApiKey(api_key)

        async def optional(scope: str, path: str) -> dict:
            if scope not in scopes:
                return {}
            try:
                body = await self._get(base, path, auth, VERIFY_ACCOUNT, **quick)
            except MissingScopes:
                return {}
            return body if isinstance(body, dict) else {}

        who, account = await asyncio.gather(
            optional(IDENTITY_SCOPE, "/v3/user/username"), optional(ACCOUNT_SCOPE, "/v3/user/account")
        )
        user_id = who.get("user_id")
        reputation = account.get("reputation")
        return KeyInfo(
            scopes=tuple(sorted(set(scopes))),
            missing=tuple(s for s in self.spec.required_scopes if s not in scopes),
            user_id=str(user_id) if user_id is not None else None,
            username=who.get("username") if isinstance(who.get("username"), str) else None,
            account_type=account.get("type") if isinstance(account.get("type"), str) else None,
            reputation=float(reputation) if isinstance(reputation, int | float) else None,
            write_scopes=tuple(sorted(s for s in set(scopes) if is_write_scope(s))),
        )

    def probes(self, today: date) -> dict[str, tuple[str, dict]]:
        """One cheap read per catalogue scope: scope -> (path, query)."""
        day = (today - timedelta(days=1)).isoformat()
        return {
            "user.account.read": ("/v3/user/account", {}),
            "user.credits.read": ("/v3/user/credits", {}),
            "teammates.read": ("/v3/teammates", {"limit": 1, "offset": 0}),
            "stats.read": ("/v3/stats", {"start_date": day, "end_date": day, "aggregated_by": "day"}),
        }

    async def health(self, api_key: str, base: str, *, today: date, account: str) -> Health:
        """Re-read the key's scopes and probe each feature it should be able to read."""
        try:
            scopes = await self.scopes(api_key, base, account=account)
        except Unauthorized:
            return Health("revoked", reason="401")
        except ProviderError as error:
            return Health("unknown", reason=str(error))
        auth = ApiKey(api_key)
        probes = self.probes(today)
        lacking = [s for s in self.spec.required_scopes if s not in scopes]
        to_probe = [s for s in self.spec.required_scopes if s in scopes and s in probes]

        async def probe(scope: str) -> str:
            path, params = probes[scope]
            try:
                await self._get(base, path, auth, account, params=params or None)
            except MissingScopes:
                return "forbidden"
            except Unauthorized:
                return "revoked"
            except ProviderError:
                return "unknown"
            return "ok"

        outcomes = dict(zip(to_probe, await asyncio.gather(*(probe(s) for s in to_probe)), strict=True))
        if "revoked" in outcomes.values():
            return Health("revoked", scopes=tuple(scopes), reason="401")
        forbidden = [s for s, outcome in outcomes.items() if outcome == "forbidden"]
        return Health(
            "ok",
            scopes=tuple(sorted(set(scopes))),
            unavailable=tuple(sorted(set(lacking) | set(forbidden))),
            unknown=tuple(s for s, outcome in outcomes.items() if outcome == "unknown"),
        )
