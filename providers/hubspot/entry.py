"""HubSpot's catalogue entry: everything the bot knows about it that data can say."""

from __future__ import annotations

import re

from providers.hubspot.policy import HubSpotPolicy
from providers.plugin import OAuth, ProviderSpec, Scope, SeatAction, Setting
from providers.ratelimit import DEFAULT_BUCKET, Bucket, HeaderNames, ProviderLimits

KEY = "hubspot"

# HubSpot's documented limits for public apps (API usage guidelines,
# https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines): 110 requests per
# rolling 10 s per app and account; CRM search 5 requests per second per account, not counted in the
# 10-second budget, and answered without rate-limit headers. We book at those limits, each window
# ARRIVAL_MARGIN longer: we book start times on our clock, HubSpot counts arrivals on its own, and a
# request sent exactly one window after the first of a full window can arrive a moment early. The
# occasional 429 that jitter still causes is retried (HubSpotPolicy: SECONDLY waits about a second);
# benchmarks/README.md records how many the benchmark meets.
ARRIVAL_MARGIN = 0.05
LIMITS = ProviderLimits(
    buckets={
        DEFAULT_BUCKET: Bucket(limit=110, window=10.0 + ARRIVAL_MARGIN),
        "search": Bucket(limit=5, window=1.0 + ARRIVAL_MARGIN),
    },
    standalone=frozenset({"search"}),
    headers=HeaderNames(remaining="X-HubSpot-RateLimit-Remaining", limit="X-HubSpot-RateLimit-Max"),
)
POLICY = HubSpotPolicy()

# HubSpot's OAuth token endpoints are date-versioned (/oauth/2026-03/token); v1 is switched off on 2027-02-16.
OAUTH_VERSION = re.compile(r"20\d\d-(0[1-9]|1[0-2])")


def version_problem(version: str) -> str | None:
    if OAUTH_VERSION.fullmatch(version):
        return None
    return f"HUBSPOT_OAUTH_VERSION must be a date version such as 2026-03, not {version!r}" + (
        ": HubSpot switches v1 off on 2027-02-16." if version.lower() == "v1" else "."
    )


CLIENT_ID, CLIENT_SECRET = "HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET"
API_URL, AUTHORIZE_URL, OAUTH_VERSION_SETTING = (
    "HUBSPOT_API_URL",
    "HUBSPOT_AUTHORIZE_URL",
    "HUBSPOT_OAUTH_VERSION",
)

SPEC = ProviderSpec(
    key=KEY,
    display_name="HubSpot",
    api_base_url="https://api.hubapi.com",
    oauth=OAuth(
        authorize_url="https://app.hubspot.com/oauth/authorize",
        token_path="/oauth/{version}/token",
        revoke_path="/oauth/{version}/token/revoke",
        client_id_setting=CLIENT_ID,
        client_secret_setting=CLIENT_SECRET,
    ),
    verify_path="/account-info/v3/details",
    limits=LIMITS,
    policy=POLICY,
    console_url="https://app.hubspot.com/integrations-settings/",
    api_url_setting=API_URL,
    account_word="portal",
    settings=(
        Setting(CLIENT_ID, None, "HubSpot public app client id; without it HubSpot is not offered."),
        Setting(CLIENT_SECRET, None, "HubSpot public app client secret.", secret=True),
        Setting(API_URL, "https://api.hubapi.com", "HubSpot API base URL."),
        Setting(AUTHORIZE_URL, "https://app.hubspot.com/oauth/authorize", "HubSpot consent page URL."),
        Setting(
            OAUTH_VERSION_SETTING,
            "2026-03",
            "Date version of HubSpot's OAuth token endpoints (YYYY-MM; v1 is refused).",
            problem=version_problem,
        ),
    ),
    secret_patterns=(r"\b(?:na|eu|ap)\d-[0-9a-f]{4}-[0-9a-f-]{8,}",),  # refresh tokens
    rejected_reason="HubSpot rejected Quolum's access even after a refresh",
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
    # Asked for only when an admin turns reclaiming on (the consent again, with it): see
    # providers/hubspot/seat_actions.py for the calls and the spec they follow.
    reclaim=SeatAction(
        verb="Unassign the paid seat",
        write_scopes=(
            Scope(
                "settings.users.write",
                "unassign the paid seat of a person who does not use it (the user stays)",
            ),
        ),
        undo_days=14,
        note="The person keeps their HubSpot login, teams and records; only the paid seat is given back.",
    ),
)
