"""Set-up of the slash-command benchmark: the database and installation, and the bare Bolt baseline app."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness import ROOT
from harness.processes import BenchmarkError, server_env
from sandbox.slack_requests import SIGNING_SECRET

TEAM_ID = "T0001"


def build_baseline_app(mode: str, env: dict[str, str]):
    """A bare Bolt AsyncApp with one `/quolum` listener, mounted in Starlette with Bolt's adapter.

    mode "multi": multi-workspace, authorised as the bot is (AsyncInstallationStoreAuthorize, bot_only,
    cache_enabled) over the bot's encrypted installation store; "single": one workspace's bot token.
    """
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from handlers import commands
    from messages import blocks
    from providers.registry import INSTALLED

    api_url = env["SLACK_API_URL"]
    common = dict(signing_secret=env["SLACK_SIGNING_SECRET"], process_before_response=False)
    if mode == "multi":
        from storage.crypto import Encryptor
        from storage.db import Database
        from storage.installations import EncryptedInstallationStore

        store = EncryptedInstallationStore(
            Database(env["QUOLUM_DATABASE_URL"]), Encryptor(env["QUOLUM_ENCRYPTION_KEYS"].split(","))
        )
        client = AsyncWebClient(base_url=api_url)
        authorize = AsyncInstallationStoreAuthorize(
            logger=logging.getLogger("bare.authorize"),
            installation_store=store,
            client_id=env["SLACK_CLIENT_ID"],
            client_secret=env["SLACK_CLIENT_SECRET"],
            bot_only=True,
            cache_enabled=True,
            client=client,
        )
        bolt = AsyncApp(
            client=client,
            authorize=authorize,
            installation_store=store,
            installation_store_bot_only=True,
            **common,
        )
    else:
        token = env["SLACK_BOT_TOKEN"]
        bolt = AsyncApp(client=AsyncWebClient(token=token, base_url=api_url), token=token, **common)

    # the blocks the bot sends, built once
    reply = blocks.help_message(commands.help_entries(INSTALLED))

    @bolt.command("/quolum")
    async def quolum(ack) -> None:
        await ack(**reply)

    handler = AsyncSlackRequestHandler(bolt)

    async def events(request):
        return await handler.handle(request)

    async def healthz(request):
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/slack/events", events, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])]
    )


def serve_baseline(mode: str, port: int) -> int:
    """The bare app's process: `--serve-baseline multi|single --port P` (settings from the environment)."""
    import uvicorn

    app = build_baseline_app(mode, dict(os.environ))
    # `quolum-bot serve`'s uvicorn settings, minus the forwarded-header trust (plain http here). No
    # logging is configured: uvicorn's access log has no handler, as a bare app's would not.
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, timeout_graceful_shutdown=25)
    return 0


async def save_installation(database_url: str, key: str, slack) -> None:
    """Record the stand-in workspace's installation as the OAuth flow would, as the tests do."""
    from storage.crypto import Encryptor
    from storage.db import Database
    from storage.store import Storage
    from tests.conftest import install

    storage = Storage(Database(database_url), Encryptor([key]), replica_id="benchmark")
    try:
        await install(storage, slack, team_id=TEAM_ID)
    finally:
        await storage.db.dispose()


@dataclass
class Setup:
    tmp: Path
    slack: object  # SlackStandIn
    workspace: object
    env: dict[str, str]  # multi-workspace environment shared by the bot and the bare app


def prepare(tmp: Path, slack, workspace) -> Setup:
    from storage.crypto import generate_key

    key = generate_key()
    database_url = f"sqlite:///{(tmp / 'quolum.db').as_posix()}"
    env = server_env(
        dict(os.environ),
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_CLIENT_ID=slack.client_id,
        SLACK_CLIENT_SECRET=slack.client_secret,
        SLACK_API_URL=f"{slack.url}/api/",
        QUOLUM_DATA_DIR=str(tmp),
        QUOLUM_DATABASE_URL=database_url,
        QUOLUM_ENCRYPTION_KEYS=key,
        QUOLUM_LOG_LEVEL="INFO",
    )
    upgrade = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if upgrade.returncode != 0:
        raise BenchmarkError(f"`quolum-bot db upgrade` failed:\n{upgrade.stdout}{upgrade.stderr}")
    from core.config import normalise_database_url

    asyncio.run(save_installation(normalise_database_url(database_url, tmp), key, slack))
    env["QUOLUM_DATABASE_URL"] = normalise_database_url(database_url, tmp)
    return Setup(tmp=tmp, slack=slack, workspace=workspace, env=env)
