"""The Slack workspace's own seats: the catalogue entry (data only).

Quolum already lives in the workspace: its bot token reads the members (`users.list`, `users:read`),
so connecting needs nothing pasted (the form's one field is the workspace's bot token, filled by the
bot). Billing (`team.billableInfo` → `billing_active`) and last activity (`team.accessLogs` →
`date_last`, paid plans only) need a workspace owner's or admin's *user* token with the `admin`
scope: the card's *Connect Slack billing* runs Slack's OAuth v2 with `user_scope=admin,users:read`
through the bot's own Slack app, and the user token is stored encrypted beside the bot token. Slack
issues a user token without a refresh token unless the app has token rotation on.

Slack's Marketplace does not list apps asking for `admin`: this provider is for self-hosted installs.

Limits: `users.list`, `team.billableInfo` and `team.accessLogs` are Tier 2 (20+ a minute, per method
and workspace); the SCIM API (Business+ and Enterprise Grid) deactivates a member.
"""

from __future__ import annotations

from providers.plugin import (
    CredentialForm,
    FormField,
    Grant,
    OAuth,
    ProviderSpec,
    Scope,
    SeatAction,
    Setting,
    SlackApp,
)
from providers.ratelimit import Bucket, ProviderLimits
from providers.slack_seats.policy import POLICY

KEY = "slack_seats"
NAME = "Slack"
API_URL = "SLACK_API_URL"  # the bot's own setting (core.config.SHARED): the Web API base URL
SCIM_URL = "SLACK_SCIM_URL"
CLIENT_ID, CLIENT_SECRET = "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"  # the bot's own Slack app
DEFAULT_API = "https://slack.com/api/"
DEFAULT_SCIM = "https://api.slack.com"
AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
ADMIN_PAGE = "https://slack.com/admin"  # "Manage members": deactivate by hand where SCIM is not on the plan
APPS_PAGE = "https://slack.com/apps/manage"

USERS_READ = "users:read"
ADMIN = "admin"
USER_SCOPES = (ADMIN, USERS_READ)  # the user token lists members itself, and reads billing and logins

# rate-limit buckets: Tier 2 is per method and workspace
USERS, BILLING, LOGINS, SCIM = "users.list", "team.billableInfo", "team.accessLogs", "scim"
TIER2 = Bucket(limit=20, window=60.0 + 0.5)
LIMITS = ProviderLimits(
    buckets={USERS: TIER2, BILLING: TIER2, LOGINS: TIER2, SCIM: Bucket(limit=20, window=60.5)},
    always=(),
    standalone=frozenset({USERS, BILLING, LOGINS, SCIM}),
)

BOT_TOKEN = "bot_token"

SPEC = ProviderSpec(
    key=KEY,
    display_name=NAME,
    aliases=("slack",),  # what people type: `/quolum seats slack`
    api_base_url=DEFAULT_API,
    verify_path="users.list",
    limits=LIMITS,
    policy=POLICY,
    console_url=APPS_PAGE,
    account_word="workspace",
    api_url_setting=API_URL,
    settings=(
        Setting(
            SCIM_URL,
            DEFAULT_SCIM,
            "Slack SCIM API base URL (deactivating members on Business+ and Enterprise Grid).",
        ),
    ),
    secret_patterns=(r"xox[abpe]-[A-Za-z0-9-]{10,}", r"xoxe\.xox[bp]-[A-Za-z0-9-]{10,}"),
    rejected_reason="Slack no longer accepts the admin's token: it was revoked, or the admin left",
    form=CredentialForm(
        intro=(
            "Quolum reads this workspace's members with the bot token the workspace already gave it: "
            "nothing to paste. It needs:"
        ),
        fields=(
            FormField(
                BOT_TOKEN,
                "Slack bot token",
                hint="The workspace's own bot token: Quolum fills it in.",
                secret=True,
                workspace_token=True,
            ),
        ),
        optional_note=(
            "Billing and last activity need a workspace owner or admin to choose *Connect Slack billing* "
            "afterwards (Slack's `admin` user scope)."
        ),
        verifying="Reading the workspace's members…",
    ),
    grant=Grant(
        label="Connect Slack billing",
        scopes=(ADMIN,),
        granted="*Slack billing connected:* billing and last activity are read with an admin's consent.",
        again="Reconnect Slack billing",
        oauth=OAuth(
            authorize_url=AUTHORIZE_URL,
            token_path="oauth.v2.access",
            revoke_path="auth.revoke",
            client_id_setting=CLIENT_ID,
            client_secret_setting=CLIENT_SECRET,
        ),
    ),
    slack_app=SlackApp(user_scopes=USER_SCOPES, redirect=True),
    scopes=(
        Scope(USERS_READ, "list the workspace's members, its guests and who was deactivated"),
        Scope(
            ADMIN,
            "read who Slack bills (billing_active) and when each member last used Slack (access logs)",
            required=False,
        ),
    ),
    reclaim=SeatAction(
        verb="Deactivate the member",
        write_scopes=(Scope(ADMIN, "deactivate an idle member through Slack's SCIM API"),),
        note=(
            "Slack stops billing a deactivated member (prorated credit on most plans); their messages and "
            "files stay. An admin can reactivate them. Needs Business+ or Enterprise Grid (SCIM)."
        ),
        enable="The admin's token from Connect Slack billing carries the `admin` scope SCIM needs.",
    ),
)
