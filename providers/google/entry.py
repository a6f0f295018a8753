"""Google Workspace's catalogue entry: everything the bot knows about it that data can say.

Quolum reads a Workspace domain with a service account that has domain-wide delegation: an admin
creates it in Google Cloud, downloads its JSON key, grants its client ID the read scopes in the Admin
console, and pastes the key here with the email of a super admin to act as. Each access token comes
from the JWT-bearer grant (an assertion signed with the key, assertion.py) and lasts an hour, without a
refresh token: the `renew` hook signs a new assertion.

Quotas (each API's "Limits and quotas" page): the Admin SDK API (Directory and Reports) allows 2,400
queries a minute per user; the Enterprise License Manager one query a second. Every request acts as
the one admin, so they are booked per connection.
"""

from __future__ import annotations

from providers.google.policy import POLICY
from providers.plugin import CredentialForm, FormField, ProviderSpec, Scope, SeatAction, Setting
from providers.ratelimit import Bucket, ProviderLimits

KEY = "google"
NAME = "Google Workspace"
TOKEN_URL = "GOOGLE_TOKEN_URL"
DIRECTORY_URL = "GOOGLE_DIRECTORY_API_URL"
LICENSING_URL = "GOOGLE_LICENSING_API_URL"
REPORTS_URL = "GOOGLE_REPORTS_API_URL"
DEFAULTS = {
    TOKEN_URL: "https://oauth2.googleapis.com/token",
    DIRECTORY_URL: "https://admin.googleapis.com",
    LICENSING_URL: "https://licensing.googleapis.com",
    REPORTS_URL: "https://admin.googleapis.com",
}
_AUTH = "https://www.googleapis.com/auth/"
DIRECTORY = f"{_AUTH}admin.directory.user.readonly"
LICENSING = f"{_AUTH}apps.licensing"  # one scope reads and writes licences
REPORTS = f"{_AUTH}admin.reports.usage.readonly"
DELEGATION_PAGE = "https://admin.google.com/ac/owl/domainwidedelegation"
ADMIN, LICENCES = "admin", "licensing"  # rate-limit buckets
ARRIVAL_MARGIN = 0.05  # a request sent exactly one window after another may arrive a little early
MY_CUSTOMER = "my_customer"
MAX_KEY = 3000  # a service account's JSON key is about 2,400 characters; Slack's input allows 3,000
MAX_FIELD = 254

LIMITS = ProviderLimits(
    buckets={
        ADMIN: Bucket(limit=2400, window=60.0 + ARRIVAL_MARGIN),
        LICENCES: Bucket(1, 1.0 + ARRIVAL_MARGIN),
    },
    always=(),
    standalone=frozenset({ADMIN, LICENCES}),
)

SPEC = ProviderSpec(
    key=KEY,
    display_name=NAME,
    api_base_url=DEFAULTS[DIRECTORY_URL],
    verify_path="/admin/directory/v1/users",
    limits=LIMITS,
    policy=POLICY,
    console_url=DELEGATION_PAGE,
    account_word="customer",
    api_url_setting=DIRECTORY_URL,
    settings=(
        Setting(TOKEN_URL, DEFAULTS[TOKEN_URL], "Google OAuth token endpoint (the JWT-bearer grant)."),
        Setting(DIRECTORY_URL, DEFAULTS[DIRECTORY_URL], "Google Admin SDK Directory API base URL."),
        Setting(LICENSING_URL, DEFAULTS[LICENSING_URL], "Google Enterprise License Manager API base URL."),
        Setting(REPORTS_URL, DEFAULTS[REPORTS_URL], "Google Admin SDK Reports API base URL."),
    ),
    secret_patterns=(
        # the key's private key, as PEM or inside the JSON (its line breaks written \n)
        r"-----BEGIN (?:RSA )?PRIVATE KEY-----[A-Za-z0-9+/=\s\\]*?-----END (?:RSA )?PRIVATE KEY-----",
        r"MII[A-Za-z0-9+/]{40,}",  # a piece of one (base64 DER)
        r"ya29\.[A-Za-z0-9_.-]{20,}",  # access tokens
        r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}",  # signed assertions
    ),
    rejected_reason=(
        "Google rejected the service account: its key was deleted, its delegation removed, or the admin it "
        "acts as is gone"
    ),
    form=CredentialForm(
        intro=(
            "Quolum reads one Google Workspace domain with a service account that has domain-wide "
            "delegation. In Google Cloud create a service account and a JSON key for it, then at "
            "<{console}|Admin console → Security → API controls → Domain-wide delegation> add its client ID "
            "with these scopes (comma-separated):"
        ),
        optional_note=(
            "The licensing scope also lets the key unassign licences: Quolum never does unless you turn "
            "reclaiming on."
        ),
        fields=(
            FormField(
                "key",
                "Service account key (JSON)",
                placeholder='{"type": "service_account", …}',
                hint="The whole JSON file. Stored encrypted; Quolum never shows it again.",
                secret=True,
                max_length=MAX_KEY,
            ),
            FormField(
                "admin_email",
                "Super admin to act as",
                placeholder="admin@example.com",
                hint="Quolum reads as this admin, and never reclaims their licence.",
                max_length=MAX_FIELD,
            ),
            FormField(
                "customer_id",
                "Customer ID",
                placeholder=MY_CUSTOMER,
                hint="Leave empty for the admin's own account (my_customer).",
                max_length=MAX_FIELD,
                default=MY_CUSTOMER,
            ),
        ),
        verifying="Checking the service account with Google…",
    ),
    scopes=(
        Scope(
            DIRECTORY, "list the domain's users, its admins, who is suspended and when each last signed in"
        ),
        Scope(LICENSING, "list who holds which Workspace licence"),
        Scope(REPORTS, "read Google's daily sign-in report (one to three days behind)", required=False),
    ),
    reclaim=SeatAction(
        verb="Unassign the licence",
        write_scopes=(Scope(LICENSING, "unassign an idle user's Workspace licence"),),
        undo_days=14,
        note=(
            "The user and their data stay; without a licence they lose the Workspace apps. On an Annual plan "
            "the licence stays paid until renewal unless you lower the licence count."
        ),
        enable=(
            "The licensing scope that reads licences also unassigns them: keep "
            "https://www.googleapis.com/auth/apps.licensing in the service account's domain-wide delegation."
        ),
    ),
)
