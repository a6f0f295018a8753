"""What an alert's context line says: the first alert that it failed; later ones that it still fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from messages import alerts as am

OPENED = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def view(**kw) -> am.AlertView:
    base = dict(
        incident_id=1,
        provider="HubSpot",
        provider_key="hubspot",
        account="acme",
        kind="revoked",
        reason="the app was uninstalled",
        feature=None,
        purpose=None,
        failing_since=OPENED - timedelta(hours=2),
        last_checked=OPENED,
        opened_at=OPENED,
    )
    return am.AlertView(**{**base, **kw})


@pytest.mark.parametrize(
    "last_checked,opened_at,starts",
    [
        (OPENED, OPENED, "Failed when Quolum checked <!date^"),  # the first alert
        (OPENED + timedelta(hours=1), OPENED, "Failing since <!date^"),  # checked again
        (OPENED + timedelta(days=2), OPENED, "Failing since <!date^"),
        (OPENED, None, "Failing since <!date^"),  # opened when unknown: the careful wording
    ],
)
def test_first_alert_failed_later_still_failing(last_checked, opened_at, starts):
    line = am.checked_line(view(last_checked=last_checked, opened_at=opened_at))
    assert line.startswith(starts)
    assert ("still failing" in line) == starts.startswith("Failing since")
    message = am.alert_message(view(last_checked=last_checked, opened_at=opened_at))
    assert line in str(message["blocks"])
