"""The plug-in type: what a provider package gives the bot (docs/adding-a-provider.md).

A provider is one package under providers/ whose `__init__` exposes:
- `SPEC`: its catalogue entry as data (`ProviderSpec`): how it connects (an OAuth 2.0 `OAuth` or a
  credential form of `FormField`s), URLs, scopes, rate limits, retry policy, the
  operator settings it reads (`Setting`), the secrets its logs must never show;
- `Hooks`: a class built once per process as `Hooks(http, settings)` (see `Hooks` below), for what
  data cannot say.

Everything above providers/ reaches a provider through the registry (providers/registry.py) and these
types only: it never imports a provider's package nor names one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from core.config import ConfigError, Settings
from core.reports import InactiveSeat
from core.seats import SeatResult
from providers.failures import Failure, Operation
from providers.http import Auth, ProviderHTTP
from providers.ratelimit import ProviderLimits
from providers.retry import RetryPolicy


@dataclass(frozen=True)
class Scope:
    name: str
    purpose: str  # what Quolum reads with it, in plain words
    required: bool = True


@dataclass(frozen=True)
class Setting:
    """An operator setting (an environment variable) a provider reads; README and .env list it."""

    name: str
    default: str | None
    description: str
    secret: bool = False  # redacted from logs, never printed by `doctor`
    problem: Callable[[str], str | None] | None = None  # why a value cannot work (a sentence), or None


@dataclass(frozen=True)
class FormField:
    """One input of a credential form (a Slack modal built from these)."""

    name: str  # the key it is stored under
    label: str
    placeholder: str = ""
    hint: str = ""
    secret: bool = False  # never shown again, never in a view or private_metadata
    choices: tuple[tuple[str, str], ...] = ()  # (value, label): radio buttons instead of a text input
    max_length: int | None = None
    default: str = ""
    # filled by the bot with the workspace's own Slack bot token (the installation's), never asked for
    # nor shown in the modal: a provider that reads the Slack workspace itself connects with it
    workspace_token: bool = False


@dataclass(frozen=True)
class CredentialForm:
    """How a person connects by pasting a credential: a modal built from this (handlers/credentials.py)."""

    intro: str  # before the scope list; `{console}` is the entry's console URL
    fields: tuple[FormField, ...]
    optional_note: str = ""  # after the optional scopes
    verifying: str = "Checking with the provider…"  # shown while the credential is verified

    @property
    def secret(self) -> FormField:
        """The field holding the credential (stored encrypted, never shown again)."""
        return next(f for f in self.fields if f.secret)


@dataclass(frozen=True)
class OAuth:
    """An OAuth 2.0 authorization-code connection. Paths are relative to the API base URL; `{version}`
    is filled by the provider's hooks."""

    authorize_url: str
    token_path: str
    revoke_path: str
    client_id_setting: str  # names of `Setting`s
    client_secret_setting: str


@dataclass(frozen=True)
class Grant:
    """An OAuth 2.0 consent that adds to a credential-form connection (the entry's `grant`): the card
    shows `label` as a link once the form's connection exists, the generic routes
    `/oauth/{provider}/start|callback` run it with the hooks `authorize_url`, `exchange`, `account`
    (and `refresh` when a refresh token comes), and its tokens are stored beside the form's credentials
    (`access_token` then becomes the bearer). Offered once the operator set `oauth`'s client id and
    secret settings."""

    label: str  # the card's link: "Connect Slack billing"
    oauth: OAuth
    # the scopes its consent adds: the grant is held while the connection's scopes include them all,
    # and the card then says `granted` and offers `again` (the consent once more) instead of `label`
    scopes: tuple[str, ...] = ()
    granted: str = ""  # the card's line once held: "Billing and activity: read with an admin's consent"
    again: str = ""  # the link once held: "Reconnect Slack billing" ("": `label`)

    def held(self, scopes: Iterable[str]) -> bool:
        """The connection holds this grant (it has every scope the consent adds)."""
        return bool(self.scopes) and set(self.scopes) <= set(scopes)


@dataclass(frozen=True)
class SlackApp:
    """What a provider needs of the bot's own Slack app (the manifest, bot/manifest.py, adds it): user
    scopes its OAuth consent asks for, and whether its callback `/oauth/{provider}/callback` is a
    redirect URL of the Slack app (a consent run through Slack's own OAuth)."""

    user_scopes: tuple[str, ...] = ()
    redirect: bool = False


@dataclass(frozen=True)
class SeatAction:
    """What reclaiming an idle seat does at this provider (the entry's `reclaim`; None: it cannot).

    Its write scopes are never asked for at first connect: only when an admin turns reclaiming on for
    a connection (OAuth: the consent again, with them; a credential form: a new credential that has
    them, `enable` says how)."""

    verb: str  # what the confirm dialog says it does: "Unassign the paid seat"
    write_scopes: tuple[Scope, ...]  # what it needs beyond reading
    saves_cost: bool = True  # False: access hygiene only (the provider bills otherwise): nothing saved
    undo_days: int = 0  # how long a reclaim can be undone by the `undo` hook (0: it cannot)
    note: str = ""  # said wherever a reclaim is shown: "the seat stays until the billing cycle ends"
    enable: str = ""  # credential forms: how to give the write permission, one sentence

    @property
    def write_scope_names(self) -> tuple[str, ...]:
        return tuple(scope.name for scope in self.write_scopes)


@dataclass(frozen=True)
class ProviderSpec:
    key: str
    display_name: str
    api_base_url: str
    scopes: tuple[Scope, ...]
    verify_path: str  # a cheap read that proves the credentials work
    limits: ProviderLimits = field(default_factory=ProviderLimits)  # proactive rate limits (Limiter)
    policy: RetryPolicy = field(default_factory=RetryPolicy)  # how answers are retried (ProviderHTTP)
    oauth: OAuth | None = None
    form: CredentialForm | None = None  # api_key providers: the credential form
    regions: dict[str, str] = field(default_factory=dict)  # api_key providers: region -> API base URL
    console_url: str | None = None  # where the customer manages our access (revoke keys, uninstall)
    api_url_setting: str | None = None  # the `Setting` that overrides the API base URL (doctor names it)
    account_word: str = "account"  # what the card calls the account id: "portal 123", "account 123"
    settings: tuple[Setting, ...] = ()  # the operator settings it reads
    secret_patterns: tuple[str, ...] = ()  # regexes of its credentials, redacted from every log line
    rejected_reason: str = "{provider} rejected Quolum's access"  # a 401 that survived a refresh
    reclaim: SeatAction | None = None  # how an idle seat is given back; None: not supported
    grant: Grant | None = None  # credential forms: an OAuth consent that adds to the connection
    slack_app: SlackApp | None = None  # what the bot's own Slack app must list for this provider
    # other names people type for it in commands (`/quolum seats slack`), besides its key and its
    # display name; the registry refuses a name two providers would answer to
    aliases: tuple[str, ...] = ()

    @property
    def consent(self) -> OAuth | None:
        """The OAuth flow the generic routes run for this provider: its connection's, or its grant's."""
        return self.oauth or (self.grant.oauth if self.grant else None)

    def grant_available(self, settings: Settings) -> bool:
        """The grant can be offered: the operator set its app's client id and secret."""
        if self.grant is None:
            return False
        oauth = self.grant.oauth
        return bool(settings.value(oauth.client_id_setting) and settings.value(oauth.client_secret_setting))

    @property
    def authorize_url(self) -> str | None:
        return self.oauth.authorize_url if self.oauth else None

    @property
    def token_path(self) -> str | None:
        return self.oauth.token_path if self.oauth else None

    @property
    def required_scopes(self) -> list[str]:
        return [s.name for s in self.scopes if s.required]

    @property
    def optional_scopes(self) -> list[str]:
        return [s.name for s in self.scopes if not s.required]

    def purpose_of(self, scope: str) -> str:
        return next((s.purpose for s in self.scopes if s.name == scope), scope)

    def setting(self, settings: Settings, name: str) -> str | None:
        """The operator's value of one of this provider's settings, else its default."""
        default = next(s.default for s in self.settings if s.name == name)
        return settings.value(name) or default

    def check_settings(self, settings: Settings) -> None:
        """Raise ConfigError (one sentence) for a setting whose value cannot work."""
        for declared in self.settings:
            value = settings.value(declared.name)
            if value and declared.problem and (problem := declared.problem(value)):
                raise ConfigError(problem)

    def is_available(self, settings: Settings) -> bool:
        """An OAuth provider needs the operator's app credentials; a credential form needs nothing."""
        if self.oauth is None:
            return True
        return bool(
            settings.value(self.oauth.client_id_setting) and settings.value(self.oauth.client_secret_setting)
        )


@dataclass(frozen=True)
class Account:
    """The account a new connection reaches, read right after connecting."""

    account_id: str
    name: str
    scopes: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    # what a person does when this account is refused as not the connection's (a grant for another
    # account), in one sentence where the provider knows better than "sign in to it and try again"
    refused_advice: str = ""


@dataclass(frozen=True)
class Connection:
    """What a hook may know of a stored connection (storage's record, without storage)."""

    id: int
    account_id: str | None
    credentials: Mapping[str, Any] = field(repr=False)
    scopes: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)  # `Account.details` stored at connect
    # the Slack member who connected it: the provider's own user where the provider is the Slack
    # workspace itself (never reclaimed)
    connected_by: str | None = None
    account_name: str | None = None

    @property
    def account_key(self) -> str:
        """Rate limits are kept per account."""
        return self.account_id or f"connection:{self.id}"


@dataclass(frozen=True)
class Checked:
    """A health check's answer: the failure (None: the access works), and, when the provider can say
    (a credential form re-reads its scopes), what the credential may read now."""

    failure: Failure | None = None
    scopes: tuple[str, ...] | None = None  # None: the check cannot tell (leave the stored ones)
    unavailable: tuple[str, ...] = ()  # features it may not read
    unknown: tuple[str, ...] = ()  # features whose probe could not tell (no change made)
    reason: str | None = None  # for the log when it could not be checked


# Where stored credentials keep the token ProviderHTTP sends as `Authorization: Bearer …`: an OAuth
# connection's `access_token` (refreshed by services/credentials.py), or this key for a credential
# form's connection (`Verified.credentials`). A provider whose requests sign otherwise says so in a hook.
BEARER = "api_key"


@dataclass(frozen=True)
class Verified:
    """A credential form's values, verified: the account they reach and what to store."""

    account_id: str | None
    account_name: str | None
    scopes: tuple[str, ...]
    missing: tuple[str, ...]  # required scopes it lacks: those features are unavailable
    credentials: Mapping[str, Any] = field(repr=False, default_factory=dict)  # the bearer under BEARER
    write_scopes: tuple[str, ...] = ()  # it can do more than read
    details: Mapping[str, Any] = field(default_factory=dict)
    expires_in: int | None = None  # seconds the bearer lasts (None: it does not expire); see `Renewed`
    # the provider's one sentence naming the permissions it lacks and how to give them ("The token cannot
    # read Copilot billing: give it *GitHub Copilot Business: read*"), optional ones included where the
    # provider says so; "": the generic list of `missing`
    missing_sentence: str = ""


@dataclass(frozen=True)
class Renewed:
    """A credential form's bearer obtained again from the stored credentials, when it expires and there
    is no refresh token (a Server-to-Server OAuth app exchanges its account credentials again). A
    provider whose `Verified.expires_in` is set has the hook `renew(credentials) -> Renewed`:
    services/credentials.py calls it before the bearer expires and after a 401, and stores `token`
    under `BEARER`."""

    token: str = field(repr=False)
    expires_in: int | None


Collector = Callable[..., Awaitable[Any]]  # providers/<name>/usage.py's collect_<name>(http, auth, ...)


class Hooks(Protocol):
    """What a provider does that data cannot say, built once per process with the shared
    `ProviderHTTP`, the settings and the injected clock (`Hooks(http, settings, *, clock)`). OAuth providers add `authorize_url`,
    `exchange`, `refresh`, `revoke` and `account`; credential forms `problem`, `verify_form` and
    `verify_failure`, optionally `verify_message(error) -> str | None` (the one sentence the modal
    shows for a failed `verify_form`, where the provider's answer says more than the generic sentence
    of its kind; None: the generic one), and `renew` when the bearer they store expires (`Renewed`). A
    grant (`ProviderSpec.grant`) may add `grant_account(access_token, connection) -> Account`: the
    account its token reaches, read knowing the connection it adds to (a token that reaches many
    accounts, such as an org-wide one, names the connection's when it reaches it); without it, `account`. A provider whose entry has `reclaim` adds `reclaim`, `protected` and, when
    `reclaim.undo_days`, `undo`; an OAuth one's `authorize_url(state, write=True)` then asks for the
    write scopes too."""

    spec: ProviderSpec
    http: ProviderHTTP
    collect: Collector  # (http, auth, *, base_url, team_id, account_id, account_name, period, scopes, clock)

    def classify(self, error: Exception, operation: Operation = "api") -> Failure: ...

    async def check(self, connection: Connection, auth: Auth, now: datetime) -> Checked:
        """The cheapest calls that prove the connection's access (the hourly health check)."""
        ...

    def base_url(self, credentials: Mapping[str, Any]) -> str:
        """Where this connection's API calls go."""
        ...

    def reachable_urls(self) -> list[str]:
        """The API base URLs `doctor` checks answer at all (without credentials)."""
        ...

    async def access(self, credentials: Mapping[str, Any], account_key: str) -> list[str]:
        """`doctor`: one cheap call with fresh credentials; the required scopes they lack. Raises
        `ProviderError` when they do not work."""
        ...

    # --- seats (only with `spec.reclaim`) ---------------------------------------------------------
    def protected(self, connection: Connection, seat: InactiveSeat) -> str | None:
        """Why this seat must never be reclaimed (a sentence: "is a HubSpot super admin", "connected
        HubSpot to Quolum"), or None. The bot also never reclaims a seat on the exempt list."""
        ...

    async def reclaim(self, connection: Connection, auth: Auth, seat: InactiveSeat) -> SeatResult:
        """Give the paid seat back through the provider's API. Never deletes the user where the
        provider can take the seat alone. Only the holder of the bot's claim calls it, once."""
        ...

    async def undo(
        self, connection: Connection, auth: Auth, seat: InactiveSeat, undo: Mapping[str, str]
    ) -> SeatResult:
        """Give the seat back to the person (`undo` is what `reclaim` returned)."""
        ...
