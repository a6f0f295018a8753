"""A credential form's added consent (`ProviderSpec.grant`) on the Connections card: offered under its
label until the connection holds it (`Grant.held`: every scope it adds), then the card says so on the
row and offers it again under `again`. Generic: the tests' Seatly provider, given a grant here."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

import tests.plugin_provider as seatly
from core.connection_status import CONNECTED, NEEDS_RECONNECT
from messages.cards import CONNECT_LINK, Row, connections_card
from providers.plugin import Grant, OAuth
from tests.services.test_app_home import connection

GRANT = Grant(
    label="Connect Seatly billing",
    oauth=OAuth("https://seatly.invalid/authorize", "token", "revoke", "SEATLY_ID", "SEATLY_SECRET"),
    scopes=("billing",),
    granted="*Seatly billing connected.*",
    again="Reconnect Seatly billing",
)
SPEC = replace(seatly.SPEC, grant=GRANT)


CASES = [
    # the connection's scopes, its status, the link's text, the granted line shown
    (("seats.read",), CONNECTED, "Connect Seatly billing", False),
    (("seats.read", "billing"), CONNECTED, "Reconnect Seatly billing", True),
    (("billing",), CONNECTED, "Reconnect Seatly billing", True),
    (("seats.read", "billing"), NEEDS_RECONNECT, "Reconnect Seatly billing", False),  # the state says why
]


@pytest.mark.parametrize("scopes,status,link,line", CASES)
def test_the_grant_is_offered_until_held_then_shown_as_held(scopes, status, link, line):
    held = GRANT.held(scopes)
    row = Row(
        SPEC,
        True,
        connection(SPEC.key, status, scopes=scopes),
        grant_url="https://bot/start",
        grant_held=held,
    )
    card = connections_card([row], can_connect=True)
    elements = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    [grant] = [e for e in elements if e["action_id"] == f"{CONNECT_LINK}:{SPEC.key}"]
    assert grant["text"]["text"] == link
    assert [e["text"]["text"] for e in elements if e["action_id"].startswith("connect_modal")] == [
        "Reconnect"
    ]
    assert ("Seatly billing connected" in json.dumps(card["blocks"])) is line


def test_a_grant_without_scopes_is_never_held():
    assert not replace(GRANT, scopes=()).held(("billing", "seats.read"))
    assert GRANT.held(("billing",)) and not GRANT.held(("seats.read",))
