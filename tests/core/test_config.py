"""Settings.from_env: what it accepts and the one sentence for what it refuses."""

from __future__ import annotations

import pytest

from bot.core.config import ConfigError, Settings


@pytest.mark.parametrize("version", ["2026-03", "2026-09", "2027-01"])
def test_hubspot_oauth_version_takes_date_versions(version):
    assert Settings.from_env({"HUBSPOT_OAUTH_VERSION": version}).hubspot_oauth_version == version


def test_hubspot_oauth_v1_is_refused_saying_when_it_is_switched_off():
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"HUBSPOT_OAUTH_VERSION": "v1"})
    assert str(refused.value) == (
        "HUBSPOT_OAUTH_VERSION must be a date version such as 2026-03, not 'v1': "
        "HubSpot switches v1 off on 2027-02-16."
    )


@pytest.mark.parametrize("version", ["v3", "2026-13", "2026-3", "2026-03/token", "latest"])
def test_hubspot_oauth_version_refuses_anything_else(version):
    with pytest.raises(ConfigError, match="HUBSPOT_OAUTH_VERSION must be a date version"):
        Settings.from_env({"HUBSPOT_OAUTH_VERSION": version})
