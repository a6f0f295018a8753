"""Zoom in the sandbox: a small seeded account, and a Server-to-Server OAuth app on it with the read
scope the credential form asks for."""

from __future__ import annotations

from datetime import datetime

from sandbox.standins.sandboxed import Sandboxed
from sandbox.standins.zoom import ZoomStandIn
from sandbox.standins.zoom_seed import generate_account, truth

ACCOUNT = "aCmE0V1deo42"


def seed(standin: ZoomStandIn, now: datetime) -> None:
    standin.add_account(generate_account(5, now=now, account_id=ACCOUNT, name="Acme Video", n_users=30))


def credentials(standin: ZoomStandIn) -> dict[str, str]:
    client_id, secret = standin.add_app(ACCOUNT, ["user:read:admin"])
    return {"account_id": ACCOUNT, "client_id": client_id, "client_secret": secret}


def paid_seats(standin: ZoomStandIn, start: datetime) -> int:
    return truth(standin.account(ACCOUNT), start).licensed


SANDBOX = Sandboxed(
    key="zoom",
    make=lambda clock: ZoomStandIn(clock=clock),
    seed=seed,
    settings=lambda standin: {"ZOOM_API_URL": standin.url, "ZOOM_OAUTH_URL": standin.url},
    credentials=credentials,
    paid_seats=paid_seats,
    labels={
        "account_id": "Zoom account ID",
        "client_id": "Zoom client ID",
        "client_secret": "Zoom client secret",
    },
)
