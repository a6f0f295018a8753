"""SendGrid's catalogue entry: everything the bot knows about it that data can say."""

from __future__ import annotations

from providers.plugin import CredentialForm, FormField, ProviderSpec, Scope, SeatAction, Setting
from providers.ratelimit import ProviderLimits
from providers.sendgrid.policy import SendGridPolicy

KEY = "sendgrid"
API_URL = "SENDGRID_API_URL"
KEY_LENGTH = 69  # "SG." + 22 + "." + 43: what SendGrid issues today; not enforced
MAX_KEY_LENGTH = 200  # the modal's input refuses longer text
DEFAULT_REGION = "global"
REGIONS = {"global": "https://api.sendgrid.com", "eu": "https://api.eu.sendgrid.com"}
REGION_LABELS = {"global": "Global", "eu": "EU (regional account)"}
POLICY = SendGridPolicy()


def _region_choice(region: str) -> tuple[str, str]:
    return region, f"{REGION_LABELS[region]} — {REGIONS[region].removeprefix('https://')}"


SPEC = ProviderSpec(
    key=KEY,
    display_name="SendGrid",
    api_base_url=REGIONS[DEFAULT_REGION],
    regions=dict(REGIONS),
    verify_path="/v3/scopes",
    # SendGrid limits are per endpoint and announced in X-RateLimit-* headers: handled reactively.
    limits=ProviderLimits(),
    policy=POLICY,
    console_url="https://app.sendgrid.com/settings/api_keys",
    api_url_setting=API_URL,
    settings=(Setting(API_URL, None, "Overrides the SendGrid API base URL chosen by region."),),
    secret_patterns=(r"SG\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",),  # API keys
    rejected_reason="SendGrid rejected the stored API key: it was deleted or revoked",
    form=CredentialForm(
        intro=(
            "Quolum reads SendGrid with an API key you create. In SendGrid, open <{console}|Settings → API "
            "Keys>, choose *Create API Key* → *Restricted Access*, and give it *Read Access* to these "
            "scopes only:"
        ),
        optional_note="Leave everything else at *No Access*: Quolum never sends mail or changes settings.",
        fields=(
            FormField(
                "api_key",
                "API key",
                placeholder="SG.…",
                hint="Stored encrypted. Quolum never shows it again; paste a new key here to replace it.",
                secret=True,
                max_length=MAX_KEY_LENGTH,
            ),
            FormField(
                "region",
                "Where is your SendGrid account?",
                choices=tuple(_region_choice(region) for region in REGIONS),
                default=DEFAULT_REGION,
            ),
        ),
        verifying="Checking the key with SendGrid…",
    ),
    scopes=(
        Scope("user.account.read", "read your plan type"),
        Scope("user.credits.read", "compare the email credits you pay for with what you use"),
        Scope("teammates.read", "count teammates, the seats of your SendGrid plan"),
        Scope("stats.read", "read delivery, open and click statistics"),
        Scope("user.username.read", "name the account on the Connections card", required=False),
    ),
    # providers/sendgrid/seat_actions.py: DELETE /v3/teammates/{username}; no undo (only a new invitation).
    reclaim=SeatAction(
        verb="Remove the teammate",
        write_scopes=(Scope("teammates.delete", "remove a teammate who no longer needs access"),),
        saves_cost=False,
        undo_days=0,
        note="SendGrid bills by email volume, not by teammate: removing one tidies access and saves no seat cost.",
        enable=(
            "In SendGrid, open Settings → API Keys, choose Create API Key → Restricted Access, give it the "
            "same Read Access as before plus the teammates.delete permission (Full Access to Teammates), "
            "and paste the new key here."
        ),
    ),
)
