"""The registry: which providers are installed, and what it derives from their entries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import providers
import tests.plugin_provider as seatly
from core.config import ConfigError, Settings
from core.logs import redact
from providers.registry import INSTALLED, Installed, Registry, discover


def test_every_provider_package_is_found_in_name_order():
    packages = sorted(p.parent.name for p in Path(providers.__file__).parent.glob("*/__init__.py"))
    assert [i.spec.key for i in discover()] == packages and {"hubspot", "sendgrid"} <= set(packages)
    assert list(INSTALLED) == packages
    assert "hubspot" in [s.key for s in INSTALLED.oauth()]
    assert "sendgrid" in [s.key for s in INSTALLED.credential_forms()]
    # each connects one way: OAuth or a credential form
    assert sorted(s.key for s in [*INSTALLED.oauth(), *INSTALLED.credential_forms()]) == packages


@pytest.mark.parametrize(
    "typed,key", [("hubspot", "hubspot"), (" SendGrid ", "sendgrid"), ("nosuchapp", None), ("", None)]
)
def test_find_reads_what_people_type(typed, key):
    found = INSTALLED.find(typed)
    assert (found.key if found else None) == key


def test_a_test_registry_serves_a_provider_of_its_own():
    registry = Registry([*discover(), Installed.of(seatly)])
    assert registry.usage() == "|".join([*INSTALLED, "seatly"])
    assert registry.names()["seatly"] == "Seatly"
    assert "SEATLY_API_URL" in registry.variables() and "SEATLY_API_URL" not in INSTALLED.variables()
    assert registry.limits()["seatly"] is seatly.SPEC.limits


def test_settings_read_each_providers_variables_and_keep_their_defaults():
    settings = INSTALLED.load_settings({"SENDGRID_API_URL": "http://127.0.0.1:9", "UNRELATED": "x"})
    assert settings.value("SENDGRID_API_URL") == "http://127.0.0.1:9"
    assert settings.value("UNRELATED") is None and settings.value("HUBSPOT_API_URL") is None
    hubspot = INSTALLED["hubspot"]
    assert hubspot.setting(settings, "HUBSPOT_API_URL") == "https://api.hubapi.com"  # the default
    assert not hubspot.is_available(settings)  # no client id and secret: not offered
    assert hubspot.is_available(settings.with_overrides(hubspot_client_id="id", hubspot_client_secret="s"))
    assert INSTALLED["sendgrid"].is_available(Settings())  # a credential form needs nothing


@pytest.mark.parametrize(
    "changes,values",
    [
        ({"hubspot_api_url": "http://h"}, {"HUBSPOT_API_URL": "http://h"}),
        ({"hubspot_api_url": None}, {}),
        ({"log_level": "DEBUG"}, {}),
    ],
)
def test_with_overrides_sets_fields_or_provider_variables(changes, values):
    assert Settings().with_overrides(**changes).provider_values == values


def test_a_setting_a_provider_refuses_stops_the_start():
    with pytest.raises(ConfigError, match="HUBSPOT_OAUTH_VERSION"):
        INSTALLED.load_settings({"HUBSPOT_OAUTH_VERSION": "v1"})


def test_each_provider_declares_the_credential_shapes_logs_hide():
    INSTALLED.redact_credentials()
    key = "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    assert key not in redact(f"key {key}") and "na1-1a2b-3c4d" not in redact("t na1-1a2b-3c4d-5e6f-7a8b")


async def test_every_providers_hooks_read_the_injected_clock():
    """A job run `--at T` signs Google's assertion, judges Zoom's token expiry… at T, not at the machine's time."""
    import httpx

    from core.clock import FrozenClock

    clock = FrozenClock(datetime(2031, 2, 3, 4, 5, tzinfo=UTC))
    async with httpx.AsyncClient() as http:
        bound = INSTALLED.bind(http, Settings(), None, clock)
        for spec, hooks in bound.items():
            assert hooks.clock is clock, spec.key
