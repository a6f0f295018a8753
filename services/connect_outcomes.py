"""What a person reads after connecting in the browser: the OAuth callback's outcomes and the
sentences the connections service sends (kept apart from the flow in services/connections.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from providers.failures import Failure
from providers.http import ProviderError
from providers.plugin import ProviderSpec

log = logging.getLogger("quolum.connections")


@dataclass(frozen=True)
class ConnectOutcome:
    """What the browser is shown after the OAuth callback."""

    ok: bool
    title: str
    message: str
    status: int = 200
    hint: str = ""


# --- what people read -----------------------------------------------------------------------
CONNECTED_TITLE = "{provider} is connected"
CONNECTED_PAGE = "Connected to {domain}. You can close this tab."
CONNECTED_SLACK = ":white_check_mark: {provider} is connected to *{account}* ({word} {id})."
PORTAL_CHANGED = "This replaces the connection to {before}: Quolum now reads {after} instead."
DISCONNECTED_NOTE = (
    "{provider} ({account}) was disconnected by <@{user}>; its stored credentials were deleted."
)
API_KEY_NOT_REVOKED = "Quolum cannot revoke {provider} API keys: delete the key at {url}."
REVOKE_FAILED = "{provider} could not be told to revoke Quolum's access; you can uninstall the app at {url}."
NOT_CONNECTED_NOTE = "{provider} is not connected."
TRY_AGAIN_HINT = "Go back to Slack and run /quolum connect for a new link."


def other_account(provider: ProviderSpec, granted: str, connected: str, advice: str = "") -> ConnectOutcome:
    """A grant (`ProviderSpec.grant`) approved for another account than the connection's; `advice`:
    the provider's own sentence on what to do (`Account.refused_advice`), else sign in and retry."""
    return ConnectOutcome(
        False,
        "Nothing was connected",
        f"This consent was given for {granted}, but Quolum's {provider.display_name} connection reads "
        f"{connected}. Quolum gave the access back; {advice or f'sign in to {connected} and try again.'}",
        400,
    )


def not_stored(provider: ProviderSpec) -> ConnectOutcome:
    return ConnectOutcome(
        False,
        "Quolum could not save the connection",
        f"Quolum could not save this {provider.display_name} connection, so it gave back the access "
        f"{provider.display_name} had just granted and nothing was connected.",
        503,
        "Please try again in a few minutes: run /quolum connect in Slack for a new link.",
    )


INVITATION_CLOSED = ConnectOutcome(
    False,
    "This invitation is no longer open",
    "The invitation this link came from was declined, has expired or was used, so Quolum did not "
    "connect anything.",
    400,
    "Ask whoever invited you to send a new invitation.",
)

LINK_PROBLEMS = {
    "unknown": ConnectOutcome(
        False,
        "This link is not valid",
        "This Connect link is not one Quolum issued, or it was cut short.",
        400,
        TRY_AGAIN_HINT,
    ),
    "used": ConnectOutcome(
        False,
        "This link was already used",
        "Each Connect link works once, and this one has been used.",
        400,
        TRY_AGAIN_HINT,
    ),
    "expired": ConnectOutcome(
        False,
        "This link has expired",
        "Connect links are valid for 10 minutes, and this one is older.",
        400,
        TRY_AGAIN_HINT,
    ),
    "elsewhere": ConnectOutcome(
        False,
        "This link was opened elsewhere",
        "This sign-in was started in another browser or for another Slack workspace, "
        "so Quolum did not use it.",
        400,
        TRY_AGAIN_HINT,
    ),
}


def exchange_failure(provider: ProviderSpec, failure: Failure, error: ProviderError) -> ConnectOutcome:
    """What the person reads when the provider would not finish connecting (`failure`: the
    provider's own `classify(error, "exchange")`)."""
    kind = {"transient": "unavailable"}.get(failure.kind, failure.kind)
    log.warning("%s code exchange failed (%s): %s", provider.key, kind, error)
    name = provider.display_name
    if kind == "configuration":
        return ConnectOutcome(
            False,
            f"Quolum's {name} app is misconfigured",
            f"{name} did not accept this bot's own app credentials. Nothing is wrong with your "
            f"{name} account.",
            502,
            "Please tell whoever runs this Quolum bot; nothing was saved.",
        )
    if kind == "bad_code":
        return ConnectOutcome(
            False,
            f"{name} did not accept the approval",
            f"The approval code from {name} was rejected or had expired before Quolum could use it. "
            "Nothing was saved.",
            400,
            TRY_AGAIN_HINT,
        )
    if kind == "unavailable":
        return ConnectOutcome(
            False,
            f"{name} is not answering",
            f"Quolum could not reach {name} to finish connecting. Nothing was saved.",
            503,
            "Please try again in a few minutes: run /quolum connect in Slack for a new link.",
        )
    return ConnectOutcome(
        False,
        f"{name} connection failed",
        f"{name} refused to finish the connection. Nothing was saved.",
        502,
        TRY_AGAIN_HINT,
    )
