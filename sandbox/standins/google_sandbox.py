"""Google Workspace in the sandbox: a small seeded domain, and a service account whose client ID the
domain's super admin delegated the read scopes to (what the credential form asks for)."""

from __future__ import annotations

import json
from datetime import datetime

from providers.google.entry import DIRECTORY, LICENSING, REPORTS
from sandbox.standins.google import GoogleStandIn
from sandbox.standins.google_seed import generate_domain, truth
from sandbox.standins.sandboxed import Sandboxed

CUSTOMER = "C03acme7q"
DOMAIN = "acme.example"


def seed(standin: GoogleStandIn, now: datetime) -> None:
    standin.add_domain(generate_domain(9, now=now, n_users=40, domain=DOMAIN, customer_id=CUSTOMER))


def credentials(standin: GoogleStandIn) -> dict[str, str]:
    key = getattr(standin, "sandbox_key", None)
    if key is None:  # one service account key per run: the page lists it, the demo pastes it
        key = standin.sandbox_key = standin.authority.create_key(project="acme-quolum")
        standin.authority.delegate(CUSTOMER, key["client_id"], [DIRECTORY, LICENSING, REPORTS])
    return {"key": json.dumps(key, indent=2), "admin_email": f"admin@{DOMAIN}", "customer_id": ""}


def paid_seats(standin: GoogleStandIn, start: datetime) -> int:
    """Licences held: each one is a paid seat."""
    return truth(standin.domains[CUSTOMER], start).licences


SANDBOX = Sandboxed(
    key="google",
    make=lambda clock: GoogleStandIn(clock=clock),
    seed=seed,
    settings=lambda standin: {
        "GOOGLE_TOKEN_URL": f"{standin.url}/token",
        "GOOGLE_DIRECTORY_API_URL": standin.url,
        "GOOGLE_LICENSING_API_URL": standin.url,
        "GOOGLE_REPORTS_API_URL": standin.url,
    },
    credentials=credentials,
    paid_seats=paid_seats,
    labels={
        "key": "Google service account key (JSON)",
        "admin_email": "Google super admin to act as",
        "customer_id": "Google customer ID (empty: my_customer)",
    },
)
