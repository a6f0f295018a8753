"""The provider catalogue: what can be said about each provider as data.

An entry says how a provider authenticates (`oauth2` or `api_key`), where its
consent, token and API endpoints are, which scopes Quolum asks for and why
(read-only, in plain words for the people approving them), its rate-limit and
pagination style, and how credentials are verified. What data cannot say
lives in the provider's own module (providers/hubspot/client.py, providers/sendgrid/client.py).
Operators' overrides (stand-ins, EU hosting) come from Settings via `resolve`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from core.config import Settings


@dataclass(frozen=True)
class Scope:
    name: str
    purpose: str  # what Quolum reads with it, in plain words
    required: bool = True


@dataclass(frozen=True)
class ProviderSpec:
    key: str
    display_name: str
    auth_mode: Literal["oauth2", "api_key"]
    api_base_url: str
    scopes: tuple[Scope, ...]
    rate_limit: str  # how the provider limits us: "hubspot" (110/10 s + search 4/s) | "sendgrid" (headers)
    pagination: str  # "cursor" (paging.next.after) | "offset" (limit/offset, stop on a short page)
    verify_path: str  # a cheap read that proves the credentials work
    authorize_url: str | None = None
    token_path: str | None = None  # relative to api_base_url, `{version}` filled from settings
    regions: dict[str, str] = field(default_factory=dict)  # api_key providers: region -> API base URL
    console_url: str | None = None  # where the customer manages our access (revoke keys, uninstall)

    @property
    def required_scopes(self) -> list[str]:
        return [s.name for s in self.scopes if s.required]

    @property
    def optional_scopes(self) -> list[str]:
        return [s.name for s in self.scopes if not s.required]

    def purpose_of(self, scope: str) -> str:
        return next((s.purpose for s in self.scopes if s.name == scope), scope)


HUBSPOT = ProviderSpec(
    key="hubspot",
    display_name="HubSpot",
    auth_mode="oauth2",
    api_base_url="https://api.hubapi.com",
    authorize_url="https://app.hubspot.com/oauth/authorize",
    token_path="/oauth/{version}/token",
    verify_path="/account-info/v3/details",
    rate_limit="hubspot",
    pagination="cursor",
    console_url="https://app.hubspot.com/integrations-settings/",
    scopes=(
        Scope("oauth", "identify the HubSpot account you connect"),
        Scope("settings.users.read", "list users and the paid seats assigned to them"),
        Scope("crm.objects.owners.read", "match CRM records to the users who own them"),
        Scope(
            "crm.objects.contacts.read", "count contacts and logged calls, emails, meetings, notes and tasks"
        ),
        Scope("account-info.security.read", "see when users last logged in", required=False),
        Scope("crm.objects.companies.read", "count companies created and updated", required=False),
        Scope("crm.objects.deals.read", "count deals created and updated", required=False),
        Scope("settings.users.teams.read", "group users by team", required=False),
    ),
)

SENDGRID = ProviderSpec(
    key="sendgrid",
    display_name="SendGrid",
    auth_mode="api_key",
    api_base_url="https://api.sendgrid.com",
    regions={"global": "https://api.sendgrid.com", "eu": "https://api.eu.sendgrid.com"},
    verify_path="/v3/scopes",
    rate_limit="sendgrid",
    pagination="offset",
    console_url="https://app.sendgrid.com/settings/api_keys",
    scopes=(
        Scope("user.account.read", "read your plan type"),
        Scope("user.credits.read", "compare the email credits you pay for with what you use"),
        Scope("teammates.read", "count teammates, the seats of your SendGrid plan"),
        Scope("stats.read", "read delivery, open and click statistics"),
        Scope("user.username.read", "name the account on the Connections card", required=False),
    ),
)

CATALOGUE: dict[str, ProviderSpec] = {spec.key: spec for spec in (HUBSPOT, SENDGRID)}


def resolve(spec: ProviderSpec, settings: Settings) -> ProviderSpec:
    """The entry with the operator's URL overrides applied."""
    if spec.key == "hubspot":
        return replace(
            spec, api_base_url=settings.hubspot_api_url, authorize_url=settings.hubspot_authorize_url
        )
    if spec.key == "sendgrid" and settings.sendgrid_api_url:
        return replace(spec, regions={name: settings.sendgrid_api_url for name in spec.regions})
    return spec


def is_available(spec: ProviderSpec, settings: Settings) -> bool:
    """An OAuth provider needs the operator's app credentials; an API-key provider needs nothing."""
    if spec.auth_mode == "oauth2":
        return bool(
            getattr(settings, f"{spec.key}_client_id", None)
            and getattr(settings, f"{spec.key}_client_secret", None)
        )
    return True


def find(name: str) -> ProviderSpec | None:
    return CATALOGUE.get((name or "").strip().lower())
