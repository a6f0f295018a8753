"""GitHub's catalogue entry: everything the bot knows about it that data can say.

Quolum reads one organisation with a personal access token a person pastes with the organisation's
name. GitHub has two kinds: fine-grained tokens carry organisation permissions (no scope header; the
bot probes), classic tokens carry scopes (sent back in `X-OAuth-Scopes`). The scopes below are
GitHub's fine-grained permission names; `CLASSIC` says which classic scopes give each.
"""

from __future__ import annotations

from providers.github.policy import GitHubPolicy
from providers.plugin import CredentialForm, FormField, ProviderSpec, Scope, SeatAction, Setting
from providers.ratelimit import DEFAULT_BUCKET, Bucket, HeaderNames, ProviderLimits

KEY = "github"
API_URL = "GITHUB_API_URL"
DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "Quolum-Bot"  # GitHub refuses requests without a User-Agent
HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": API_VERSION,
    "User-Agent": USER_AGENT,
}
MINUTE_BUCKET = "minute"
POLICY = GitHubPolicy()

MEMBERS = "Members: read"
COPILOT = "GitHub Copilot Business: read"
PLAN = "Plan: read"
COPILOT_WRITE = "GitHub Copilot Business: write"
# classic scope -> the permissions it gives (GitHub: the Copilot reads take read:org or
# manage_billing:copilot; cancelling a seat manage_billing:copilot or admin:org; the plan admin:org)
CLASSIC: dict[str, tuple[str, ...]] = {
    "read:org": (MEMBERS, COPILOT),
    "write:org": (MEMBERS, COPILOT),
    "admin:org": (MEMBERS, COPILOT, PLAN, COPILOT_WRITE),
    "manage_billing:copilot": (COPILOT, COPILOT_WRITE),
}
MAX_TOKEN_LENGTH = 255
MAX_ORG_LENGTH = 39  # GitHub's limit for a login

SPEC = ProviderSpec(
    key=KEY,
    display_name="GitHub",
    api_base_url=DEFAULT_API_URL,
    verify_path="/rate_limit",  # answers without credentials (doctor); verify_form reads the organisation
    # 5,000 requests an hour for a token (primary), at most 900 points a minute (secondary); GitHub's
    # own count comes back in x-ratelimit-* and is booked too.
    limits=ProviderLimits(
        buckets={
            DEFAULT_BUCKET: Bucket(limit=5000, window=3600.0),
            MINUTE_BUCKET: Bucket(limit=900, window=60.0),
        },
        always=(DEFAULT_BUCKET, MINUTE_BUCKET),
        headers=HeaderNames(remaining="x-ratelimit-remaining", limit="x-ratelimit-limit"),
    ),
    policy=POLICY,
    console_url="https://github.com/settings/personal-access-tokens",
    account_word="organisation",
    api_url_setting=API_URL,
    settings=(
        Setting(
            API_URL,
            DEFAULT_API_URL,
            "GitHub REST API base URL (GitHub Enterprise Server: https://HOST/api/v3).",
        ),
    ),
    secret_patterns=(
        r"gh[pousr]_[A-Za-z0-9]{36,}",  # classic, OAuth, user-to-server, server-to-server, refresh tokens
        r"github_pat_[A-Za-z0-9_]{22,}",  # fine-grained personal access tokens
    ),
    rejected_reason="GitHub rejected the stored token (Bad credentials): it expired, or was deleted or revoked",
    form=CredentialForm(
        intro=(
            "Quolum reads one GitHub organisation with a token an owner of it creates. At <{console}|Settings → "
            "Developer settings → Personal access tokens> choose *Fine-grained tokens* → *Generate new token*, "
            "set *Resource owner* to the organisation and give it these *organisation permissions*, read-only "
            "(a classic token: the `read:org` scope):"
        ),
        optional_note="Leave everything else at *No access*: Quolum only reads.",
        fields=(
            FormField(
                "org",
                "Organisation",
                placeholder="acme-corp",
                hint="Its name as in github.com/<name>.",
                max_length=MAX_ORG_LENGTH,
            ),
            FormField(
                "token",
                "Token",
                placeholder="github_pat_… or ghp_…",
                hint="Stored encrypted. Quolum never shows it again; paste a new token here to replace it.",
                secret=True,
                max_length=MAX_TOKEN_LENGTH,
            ),
        ),
        verifying="Checking the token with GitHub…",
    ),
    scopes=(
        Scope(MEMBERS, "count the organisation's members and know its owners"),
        Scope(COPILOT, "list Copilot seats and when each was last used"),
        Scope(PLAN, "read the plan's seats and how many are filled (owners only)", required=False),
    ),
    reclaim=SeatAction(
        verb="Cancel the Copilot seat",
        write_scopes=(Scope(COPILOT_WRITE, "cancel the Copilot seat of an idle member"),),
        note="the seat stays until the end of the billing cycle",
        enable=(
            "Give the token the organisation permission *GitHub Copilot Business: Read and write* (a classic "
            "token: the `manage_billing:copilot` scope), then paste it with Reconnect."
        ),
    ),
)
