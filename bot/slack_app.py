"""Builds Bolt's AsyncApp for the configured Slack mode (multi-workspace OAuth or one workspace)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

from bot.authorize import CachedInstallationAuthorize
from bot.cli_errors import slack_refusal
from bot.container import Services
from core.config import Settings
from handlers import listeners
from messages import pages
from providers.slack import web_client
from storage.states import SlackInstallStateStore

log = logging.getLogger("quolum.slack")

MAX_REASON = 80  # characters of a failure reason shown on the install page
CHECK_TIMEOUT = 5  # start-up checks: a Slack that does not answer delays the HTTP port by this much at most
BOT_SCOPES = [
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "users:read",
    "users:read.email",  # digests name idle seats as Slack mentions (users.lookupByEmail)
    "channels:read",  # subscribing checks the channel (conversations.info)
    "groups:read",
]
# Optional: the installer may decline them. With them the bot can read back its own post after Slack
# took it without answering, and store its ts instead of marking it uncertain (README, "Digests"):
# digests in channels; renewal reminders and Keep/Release asks in people's DMs (im:history).
BOT_OPTIONAL_SCOPES = ["channels:history", "groups:history", "im:history"]
REINSTALL_MESSAGE = "Quolum Bot is not installed in this workspace any more. Please reinstall it :bow:"


async def check_app_token(settings: Settings) -> None:
    """Socket Mode: slack_sdk retries a refused app token forever; refuse to start instead."""
    from core.config import ConfigError

    try:
        await web_client(settings, timeout=CHECK_TIMEOUT).apps_connections_open(app_token=settings.app_token)
    except SlackApiError as error:
        raise ConfigError(slack_refusal("SLACK_APP_TOKEN", error.response.get("error"))) from None
    except Exception as error:  # Slack unreachable: start anyway, the Socket Mode client keeps retrying
        log.warning("could not check SLACK_APP_TOKEN with Slack: %s", type(error).__name__)


async def check_bot_token(settings: Settings) -> None:
    """Single-workspace mode: a token Slack refuses stops start-up; an unreachable Slack only warns."""
    from core.config import ConfigError

    try:
        await web_client(settings, settings.bot_token, timeout=CHECK_TIMEOUT).auth_test()
    except SlackApiError as error:
        raise ConfigError(slack_refusal("SLACK_BOT_TOKEN", error.response.get("error"))) from None
    except Exception as error:  # Slack unreachable: start anyway; requests will be authorised once it answers
        log.warning("could not check SLACK_BOT_TOKEN with Slack (%s); starting anyway", type(error).__name__)


def build_bolt_app(services: Services) -> AsyncApp:
    settings = services.settings
    settings.check_slack()
    common = dict(
        signing_secret=settings.signing_secret or "socket-mode-no-signing-secret",
        process_before_response=False,
        request_verification_enabled=bool(settings.signing_secret),
        user_facing_authorize_error_message=REINSTALL_MESSAGE,
        logger=logging.getLogger("quolum.bolt"),
    )
    if settings.multi_workspace:
        client = web_client(settings)
        store = services.storage.installations
        oauth = AsyncOAuthSettings(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            scopes=BOT_SCOPES + BOT_OPTIONAL_SCOPES,  # the app's settings mark the optional ones (manifest)
            redirect_uri=f"{settings.public_url}/slack/oauth_redirect",
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
            install_page_rendering_enabled=False,
            installation_store=store,
            installation_store_bot_only=True,
            state_store=SlackInstallStateStore(services.storage.states, settings.client_secret),
            callback_options=AsyncCallbackOptions(success=_install_success, failure=_install_failure),
        )
        authorize = CachedInstallationAuthorize(
            logger=log,
            installation_store=store,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            client=client,
        )
        app = AsyncApp(
            client=client,
            oauth_settings=oauth,
            authorize=authorize,
            installation_store=store,
            installation_store_bot_only=True,
            **common,
        )
    else:
        app = AsyncApp(
            client=web_client(settings, settings.bot_token), **common
        )  # Bolt takes the token from it
    listeners.register(app, services)
    return app


def _html(status: int, html: str, extra: dict | None = None) -> BoltResponse:
    headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    headers.update(extra or {})
    return BoltResponse(status=status, body=html, headers=headers)


async def _install_success(args: AsyncSuccessArgs) -> BoltResponse:
    team = args.installation.team_name or args.installation.enterprise_name or "your workspace"
    cookie = args.settings.state_utils.build_set_cookie_for_deletion()
    html = pages.render(pages.INSTALL_SUCCESS_TITLE, pages.INSTALL_SUCCESS.format(team=team))
    return _html(200, html, {"Set-Cookie": cookie})


async def _install_failure(args: AsyncFailureArgs) -> BoltResponse:
    # `reason` is Bolt's short code (invalid_state ...) or, as Bolt passes it on, the `error` query
    # parameter of the redirect, which anyone can set: capped and escaped (by the page) when shown.
    reason = str(args.reason or "unknown")[:MAX_REASON]
    log.info("slack install failed: %s", reason)
    html = pages.render(
        pages.INSTALL_FAILURE_TITLE,
        pages.INSTALL_FAILURE.format(reason=reason.replace("_", " ")),
        hint=pages.INSTALL_FAILURE_HINT,
        kind="error",
    )
    cookie = args.settings.state_utils.build_set_cookie_for_deletion()
    return _html(args.suggested_status_code, html, {"Set-Cookie": cookie})
