"""The `quolum-bot` command as an operator meets it: help, clear configuration errors, clean shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from bot.web import STOPPED
from tests.conftest import TEST_KEY

CLI = [sys.executable, "-m", "bot.cli"]
CLEAN_ENV = {
    k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QUOLUM_", "HUBSPOT_", "SENDGRID_"))
}


def run(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], env={**CLEAN_ENV, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["serve", "--help"],
        ["db", "--help"],
        ["db", "upgrade", "--help"],
        ["db", "current", "--help"],
        ["keys", "--help"],
        ["keys", "generate", "--help"],
        ["keys", "rotate", "--help"],
        ["manifest", "--help"],
    ],
)
def test_every_command_explains_itself(args):
    result = run(*args)
    assert result.returncode == 0
    assert "usage: quolum-bot" in result.stdout and len(result.stdout.splitlines()) > 3


@pytest.mark.parametrize(
    "env,named",
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_CLIENT_SECRET": "c", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_ID"),
        (
            {
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "c",
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_SIGNING_SECRET": "s",
            },
            "not both",
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PORT": "eighty"}, "PORT"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "QUOLUM_ENCRYPTION_KEYS": "nope"},
            "QUOLUM_ENCRYPTION_KEYS",
        ),
    ],
)
def test_unworkable_configuration_exits_with_one_sentence(env, named, tmp_path):
    result = run("serve", env={"QUOLUM_DATA_DIR": str(tmp_path), **env})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in result.stderr


def test_a_refused_app_token_stops_serve_with_one_sentence(tmp_path, slack):
    env = {
        "QUOLUM_DATA_DIR": str(tmp_path),
        "SLACK_BOT_TOKEN": slack.workspaces["T0001"].bot_token,
        "SLACK_APP_TOKEN": "xapp-1-unknown",
        "SLACK_API_URL": f"{slack.url}/api/",
    }
    result = run("serve", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "quolum-bot: Slack refused SLACK_APP_TOKEN (invalid_auth): create an app-level token with connections:write."
    ]


def test_keys_generate_prints_a_fernet_key():
    from storage.crypto import Encryptor

    key = run("keys", "generate").stdout.strip()
    Encryptor([key])


def test_db_upgrade_then_current_on_sqlite(tmp_path):
    env = {"QUOLUM_DATA_DIR": str(tmp_path)}
    assert run("db", "upgrade", env=env).returncode == 0
    current = run("db", "current", env=env).stdout
    head = current.split("latest: ")[1].strip()
    assert current.startswith(f"database: {head};")


def test_serve_refuses_an_unmigrated_postgres(tmp_path):
    url = os.environ.get("QUOLUM_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("needs QUOLUM_TEST_POSTGRES_URL")
    import asyncio

    from sqlalchemy import text

    from bot.core.config import normalise_database_url
    from storage.db import Database

    name = f"quolum_unmigrated_{os.getpid()}"  # one per test process: runs may share the server

    async def admin(*statements: str) -> None:
        db = Database(normalise_database_url(url, tmp_path))
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await conn.execute(text(statement))
        await db.dispose()

    async def fresh_database() -> str:
        await admin(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
        return url.rsplit("/", 1)[0] + f"/{name}"

    env = {
        "QUOLUM_DATABASE_URL": asyncio.run(fresh_database()),
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "QUOLUM_ENCRYPTION_KEYS": TEST_KEY,
    }
    result = run("serve", env=env)
    asyncio.run(admin(f"DROP DATABASE IF EXISTS {name}"))
    assert result.returncode == 2
    assert "run `quolum-bot db upgrade`" in result.stderr and "Traceback" not in result.stderr


def test_manifest_for_a_host():
    out = run("manifest", "--url", "https://bot.acme.com").stdout
    assert "https://bot.acme.com/slack/events" in out
    assert run("manifest", "--url", "bot.acme.com").returncode == 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_migrates_sqlite_serves_and_stops_cleanly_on_sigterm(tmp_path, slack):
    port = free_port()
    env = {
        **CLEAN_ENV,
        "QUOLUM_DATA_DIR": str(tmp_path),
        "SLACK_BOT_TOKEN": slack.workspaces["T0001"].bot_token,
        "SLACK_SIGNING_SECRET": "s3cret-signing",
        "SLACK_API_URL": f"{slack.url}/api/",
    }
    proc = subprocess.Popen(
        [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not become ready")
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal so the exit status says SIGTERM
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
    out, err = proc.communicate()
    assert "Traceback" not in err
    assert STOPPED in err
    assert (tmp_path / "quolum.db").exists() and (tmp_path / "encryption.key").exists()
    assert "back it up" in err
    assert slack.workspaces["T0001"].bot_token not in err + out
