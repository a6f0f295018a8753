"""Seatly's catalogue entry: a credential form with one secret field, a setting for its API URL."""

from __future__ import annotations

from providers.plugin import CredentialForm, FormField, ProviderSpec, Scope, SeatAction, Setting
from providers.ratelimit import DEFAULT_BUCKET, Bucket, ProviderLimits
from providers.retry import RetryPolicy

KEY = "seatly"
API_URL = "SEATLY_API_URL"

SPEC = ProviderSpec(
    key=KEY,
    display_name="Seatly",
    api_base_url="https://api.seatly.invalid",
    verify_path="/v1/me",
    limits=ProviderLimits(buckets={DEFAULT_BUCKET: Bucket(limit=50, window=1.0)}),
    policy=RetryPolicy(provider=KEY, display_name="Seatly"),
    console_url="https://seatly.invalid/settings/tokens",
    account_word="workspace",
    api_url_setting=API_URL,
    settings=(Setting(API_URL, "https://api.seatly.invalid", "Seatly API base URL."),),
    secret_patterns=(r"st_[A-Za-z0-9]{16,}",),
    rejected_reason="Seatly rejected the stored token: it was deleted",
    form=CredentialForm(
        intro="Quolum reads Seatly with a read-only token: create one at <{console}|Settings → Tokens> with:",
        fields=(
            FormField(
                "token", "Token", placeholder="st_…", hint="Stored encrypted.", secret=True, max_length=64
            ),
        ),
        verifying="Checking the token with Seatly…",
    ),
    scopes=(Scope("seats.read", "count seats and who used them"),),
    reclaim=SeatAction(
        verb="Remove the seat",
        write_scopes=(Scope("seats.write", "give back the seats you choose to reclaim"),),
        undo_days=14,
        enable="Create a token with seats.write too, and Reconnect with it.",
    ),
)
