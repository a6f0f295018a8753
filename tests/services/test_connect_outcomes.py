"""What the browser says when a provider would not finish an OAuth connection: decided by the
provider's own classify, worded with its name."""

from __future__ import annotations

import pytest

from providers.errors import ProviderError
from providers.failures import Failure
from providers.registry import INSTALLED
from services.connect_outcomes import exchange_failure

ERROR = ProviderError("refused", provider="x", status=400)


@pytest.mark.parametrize(
    "kind,title,status",
    [
        ("configuration", "Quolum's {name} app is misconfigured", 502),
        ("bad_code", "{name} did not accept the approval", 400),
        ("transient", "{name} is not answering", 503),
        ("revoked", "{name} connection failed", 502),
        ("scope_lost", "{name} connection failed", 502),
    ],
)
@pytest.mark.parametrize("key", ["hubspot", "sendgrid"])
def test_exchange_failures(kind, title, status, key):
    spec = INSTALLED[key]
    outcome = exchange_failure(spec, Failure(kind, "why"), ERROR)
    assert not outcome.ok and outcome.status == status
    assert outcome.title == title.format(name=spec.display_name)
    assert ("HubSpot" in outcome.message) is (key == "hubspot")
