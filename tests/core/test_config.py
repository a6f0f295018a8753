"""Settings.from_env: what it accepts and the one sentence for what it refuses."""

from __future__ import annotations

import pytest

from core.config import ConfigError, Settings
from providers.registry import INSTALLED


@pytest.mark.parametrize("version", ["2026-03", "2026-09", "2027-01"])
def test_hubspot_oauth_version_takes_date_versions(version):
    assert (
        INSTALLED.load_settings({"HUBSPOT_OAUTH_VERSION": version}).value("HUBSPOT_OAUTH_VERSION") == version
    )


def test_hubspot_oauth_v1_is_refused_saying_when_it_is_switched_off():
    with pytest.raises(ConfigError) as refused:
        INSTALLED.load_settings({"HUBSPOT_OAUTH_VERSION": "v1"})
    assert str(refused.value) == (
        "HUBSPOT_OAUTH_VERSION must be a date version such as 2026-03, not 'v1': "
        "HubSpot switches v1 off on 2027-02-16."
    )


@pytest.mark.parametrize("version", ["v3", "2026-13", "2026-3", "2026-03/token", "latest"])
def test_hubspot_oauth_version_refuses_anything_else(version):
    with pytest.raises(ConfigError, match="HUBSPOT_OAUTH_VERSION must be a date version"):
        INSTALLED.load_settings({"HUBSPOT_OAUTH_VERSION": version})


@pytest.mark.parametrize(
    "env,refused",
    [
        ({"QUOLUM_PUBLIC_URL": "notaurl"}, "QUOLUM_PUBLIC_URL must be an http(s) URL with a host name"),
        ({"QUOLUM_PUBLIC_URL": "ftp://bot.acme.com"}, "QUOLUM_PUBLIC_URL must be an http(s) URL"),
        ({"QUOLUM_PUBLIC_URL": "https://bot.acme.com/?x=1"}, "QUOLUM_PUBLIC_URL must not have a query"),
        ({"QUOLUM_ENCRYPTION_KEYS": ","}, "QUOLUM_ENCRYPTION_KEYS is set but holds no key"),
        ({"QUOLUM_ENCRYPTION_KEYS": " , ,"}, "QUOLUM_ENCRYPTION_KEYS is set but holds no key"),
        ({"QUOLUM_LOG_LEVEL": "verbose"}, "QUOLUM_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR"),
        ({"QUOLUM_LOG_LEVEL": "5"}, "QUOLUM_LOG_LEVEL must be one of"),
    ],
)
def test_what_would_be_accepted_silently_is_refused_with_one_sentence(env, refused):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)
    assert str(error.value).startswith(refused) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    "url,warned",
    [
        ("", False),  # the default, http://localhost:3000
        ("http://localhost:3000", False),
        ("http://127.0.0.1:8080/", False),
        ("http://[::1]:3000", False),
        ("http://quolum.localhost", False),
        ("https://quolum.acme.com", False),
        ("http://quolum.acme.com", True),
        ("http://203.0.113.7:3000", True),
    ],
)
def test_plain_http_on_a_public_host_is_warned_about(url, warned):
    warnings = Settings.from_env({"QUOLUM_PUBLIC_URL": url}).warnings()
    assert bool(warnings) is warned
    assert all("QUOLUM_PUBLIC_URL" in w and "https" in w for w in warnings)


@pytest.mark.parametrize("level", ["debug", "INFO", "Warning", "error", "CRITICAL"])
def test_log_levels_logging_knows_are_taken_in_any_case(level):
    assert Settings.from_env({"QUOLUM_LOG_LEVEL": level}).log_level == level.upper()
