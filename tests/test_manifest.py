import json
from pathlib import Path

import pytest
import yaml

from bot.manifest import EXAMPLE_URL, build, render
from providers.registry import INSTALLED
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = SHARED / "reference" / "slack-manifest.schema.1.0.0.json"


def test_manifest_yml_is_the_rendered_manifest():
    assert (ROOT / "manifest.yml").read_text() == render(EXAMPLE_URL)


@pytest.mark.parametrize("socket_mode", [False, True])
def test_manifest_validates_against_slacks_schema(socket_mode):
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is read from {SCHEMA}, which is not in this checkout")
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    manifest = yaml.safe_load(render("https://bot.acme.com", socket_mode=socket_mode))
    jsonschema.validate(manifest, schema)


def test_manifest_has_what_the_bot_needs():
    manifest = build("https://bot.acme.com/")
    command = manifest["features"]["slash_commands"][0]
    assert command["command"] == "/quolum" and command["should_escape"] is True
    assert command["url"] == "https://bot.acme.com/slack/events"
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_uninstalled",
        "tokens_revoked",
        "app_home_opened",
    }
    assert {"commands", "chat:write", "im:write", "users:read"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )
    # optional: reading back a post whose answer was lost, in a channel and in a person's DM (issue 26)
    assert manifest["oauth_config"]["scopes"]["bot_optional"] == [
        "channels:history",
        "groups:history",
        "im:history",
    ]
    # the bot's own install, then each provider consent run through this Slack app (`ProviderSpec.slack_app`)
    consents = [s for s in INSTALLED.values() if s.slack_app is not None and s.slack_app.redirect]
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://bot.acme.com/slack/oauth_redirect",
        *(f"https://bot.acme.com/oauth/{spec.key}/callback" for spec in consents),
    ]
    user_scopes = {scope for s in INSTALLED.values() if s.slack_app for scope in s.slack_app.user_scopes}
    assert set(manifest["oauth_config"]["scopes"].get("user", [])) == user_scopes
    socket = build("https://bot.acme.com", socket_mode=True)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "url" not in socket["features"]["slash_commands"][0]
