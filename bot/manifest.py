"""The Slack app manifest, built from one definition.

`manifest.yml` at the repository root is `build(EXAMPLE_URL)` written out (a
test keeps them equal); `quolum-bot manifest --url` prints it for a real host.
"""

from __future__ import annotations

import yaml

from bot.slack_app import BOT_OPTIONAL_SCOPES, BOT_SCOPES
from core.config import url_problem
from providers.registry import INSTALLED

EXAMPLE_URL = "https://quolum.example.com"
BOT_EVENTS = ["app_home_opened", "app_uninstalled", "tokens_revoked"]


def check_url(url: str) -> str | None:
    """Why `url` cannot be in a manifest (None when it can): Slack sends requests to https URLs only."""
    if problem := url_problem(url):
        return problem
    if not url.strip().lower().startswith("https://"):
        return "must be https (Slack sends events and commands to https URLs only; without a public URL use --socket-mode)"
    return None


def build(url: str | None, *, socket_mode: bool = False) -> dict:
    """The manifest; `url` may be None for Socket Mode (no request URLs, no OAuth redirect: one workspace)."""
    providers = " and ".join(spec.display_name for spec in INSTALLED.values())
    url = url.rstrip("/") if url else None
    events_url = f"{url}/slack/events"
    command = {
        "command": "/quolum",
        "description": "Connect SaaS accounts and see who uses the seats you pay for",
        "usage_hint": "help | connect | status | digest subscribe | invite @admin",
        "should_escape": True,
    }
    settings: dict = {
        "event_subscriptions": {"bot_events": BOT_EVENTS},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": socket_mode,
        "token_rotation_enabled": False,
    }
    if not socket_mode:
        command["url"] = events_url
        settings["event_subscriptions"]["request_url"] = events_url
        settings["interactivity"]["request_url"] = events_url
    # what providers need of this Slack app (`ProviderSpec.slack_app`): user scopes, their OAuth callbacks
    needs = [spec for spec in INSTALLED.values() if spec.slack_app is not None]
    user_scopes = sorted({scope for spec in needs for scope in spec.slack_app.user_scopes})
    redirects = [f"{url}/slack/oauth_redirect"] if url else []
    redirects += [f"{url}/oauth/{spec.key}/callback" for spec in needs if url and spec.slack_app.redirect]
    scopes: dict = {"bot": list(BOT_SCOPES), "bot_optional": list(BOT_OPTIONAL_SCOPES)}
    if user_scopes:
        scopes["user"] = user_scopes
    return {
        "display_information": {
            "name": "Quolum",
            "description": f"Who uses the SaaS seats you pay for: connect {providers}, get weekly digests.",
            "background_color": "#1d3557",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "Quolum", "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {**({"redirect_urls": redirects} if redirects else {}), "scopes": scopes},
        "settings": settings,
    }


def render(url: str | None, *, socket_mode: bool = False) -> str:
    header = (
        "# Slack app manifest for Quolum Bot. Create the app at https://api.slack.com/apps\n"
        '# ("From an app manifest") after replacing the host, or print one for your host with\n'
        "#   quolum-bot manifest --url https://your.host [--socket-mode]\n"
    )
    return header + yaml.safe_dump(build(url, socket_mode=socket_mode), sort_keys=False, width=100)
