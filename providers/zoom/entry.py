"""Zoom's catalogue entry: everything the bot knows about it that data can say.

Zoom is connected with a Server-to-Server OAuth app the customer creates: its account ID, client ID
and client secret are pasted into the credential form, exchanged for an access token that lasts an
hour and has no refresh token (the `renew` hook exchanges them again). Rate limits are per account,
per category, per second: Pro accounts allow Light 30/s, Medium 20/s and Heavy 10/s (Business and
above allow more); listing users is Medium, reading or updating one user Light, the active-hosts report
Heavy. We book at the Pro figures.
"""

from __future__ import annotations

from providers.plugin import CredentialForm, FormField, ProviderSpec, Scope, SeatAction, Setting
from providers.ratelimit import Bucket, ProviderLimits
from providers.zoom.policy import ZoomPolicy

KEY = "zoom"
API_URL = "ZOOM_API_URL"
OAUTH_URL = "ZOOM_OAUTH_URL"
READ_SCOPE = "user:read:admin"
WRITE_SCOPE = "user:write:admin"
REPORT_SCOPE = "report:read:admin"  # optional: the active-hosts report
LIGHT, MEDIUM, HEAVY = "light", "medium", "heavy"
ARRIVAL_MARGIN = 0.05  # a request sent exactly one window after the first of a full one may arrive early
MAX_FIELD = 200
POLICY = ZoomPolicy()

LIMITS = ProviderLimits(
    buckets={
        LIGHT: Bucket(limit=30, window=1.0 + ARRIVAL_MARGIN),
        MEDIUM: Bucket(limit=20, window=1.0 + ARRIVAL_MARGIN),
        HEAVY: Bucket(limit=10, window=1.0 + ARRIVAL_MARGIN),
    },
    always=(),  # every request names its category; each category is a quota of its own
    standalone=frozenset({LIGHT, MEDIUM, HEAVY}),
)

SPEC = ProviderSpec(
    key=KEY,
    display_name="Zoom",
    api_base_url="https://api.zoom.us",
    verify_path="/v2/users/me",
    limits=LIMITS,
    policy=POLICY,
    console_url="https://marketplace.zoom.us/user/build",
    api_url_setting=API_URL,
    settings=(
        Setting(API_URL, "https://api.zoom.us", "Zoom API base URL."),
        Setting(OAUTH_URL, "https://zoom.us", "Zoom OAuth base URL (Server-to-Server token exchange)."),
    ),
    # access tokens are JWTs; the client secret never leaves the encrypted row but a Basic header might
    secret_patterns=(r"eyJ[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+){0,2}", r"Basic [A-Za-z0-9+/]{20,}={0,2}"),
    rejected_reason="Zoom rejected the app's credentials: the secret was regenerated or the app deactivated",
    form=CredentialForm(
        intro=(
            "Quolum reads Zoom with a Server-to-Server OAuth app you create. In the <{console}|Zoom App "
            "Marketplace>, choose *Develop → Build App → Server-to-Server OAuth App*, add these scopes, "
            "activate it, and paste its credentials here:"
        ),
        optional_note="Quolum never changes anything in Zoom unless you turn reclaiming on.",
        fields=(
            FormField(
                "account_id",
                "Account ID",
                placeholder="From the app's App Credentials page",
                max_length=MAX_FIELD,
            ),
            FormField("client_id", "Client ID", max_length=MAX_FIELD),
            FormField(
                "client_secret",
                "Client secret",
                hint="Stored encrypted. Quolum never shows it again; paste a new one here to replace it.",
                secret=True,
                max_length=MAX_FIELD,
            ),
        ),
        verifying="Checking the app with Zoom…",
    ),
    scopes=(
        Scope(READ_SCOPE, "count licensed Zoom users and when each last signed in"),
        Scope(
            REPORT_SCOPE, "count who hosted meetings in the period (the active-hosts report)", required=False
        ),
    ),
    reclaim=SeatAction(
        verb="Downgrade to Basic",
        write_scopes=(Scope(WRITE_SCOPE, "downgrade an idle licensed user to Basic"),),
        undo_days=14,
        note="The user keeps their Zoom account, meetings and recordings; only the licence is freed.",
        enable="Add the user:write:admin scope to the Zoom app, then connect again with its credentials.",
    ),
)
