"""The `quolum-bot` command as an operator meets it: help, clear configuration errors, clean shutdown."""

from __future__ import annotations

import contextlib
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
        ["doctor", "--help"],
        ["usage", "export", "--help"],
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
        ({"HUBSPOT_OAUTH_VERSION": "v1"}, "HUBSPOT_OAUTH_VERSION must be a date version"),
        ({"HUBSPOT_OAUTH_VERSION": "v3"}, "HUBSPOT_OAUTH_VERSION"),
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
        "QUOLUM_ENCRYPTION_KEYS": TEST_KEY,
    }
    result = run("serve", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "quolum-bot: Slack refused SLACK_APP_TOKEN (invalid_auth: the token is not valid): create an app-level "
        "token with connections:write (the app's Basic Information page, App-Level Tokens)."
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


def test_serve_refuses_an_unmigrated_postgres(tmp_path, postgres_url):
    url = postgres_url
    import asyncio

    from sqlalchemy import text

    from core.config import normalise_database_url
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
    assert (
        "https://bot.acme.com:8443/slack/events"
        in run("manifest", "--url", "https://bot.acme.com:8443/").stdout
    )


@pytest.mark.parametrize(
    "url",
    [
        "bot.acme.com",
        "https://",
        "https:///slack",
        "ftp://bot.acme.com",
        "https://bot.acme.com:99999",
        "https://a b.com",
        "https://bot.acme.com/?x=1",
    ],
)
def test_manifest_refuses_what_is_not_a_public_url(url):
    result = run("manifest", "--url", url)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("quolum-bot: --url ") and "Traceback" not in result.stderr


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
    assert "will be unused" not in err  # Bolt no longer finds SLACK_BOT_TOKEN in the environment itself
    assert len(slack.calls_to("auth.test")) == 1  # checked once, at start-up


@contextlib.contextmanager
def refusing_url():
    """A stand-in for an unreachable Slack: a bound port that never listens, so every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/"


def serve_process(env: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**CLEAN_ENV, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_health(port: int, timeout: float) -> float:
    """Seconds until /healthz answers 200 (fails the test after `timeout`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(f"/healthz did not answer within {timeout} s")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_socket_mode_with_slack_unreachable_serves_http_at_once_and_stops_on_a_signal(tmp_path, stop):
    from bot.web import DRAIN_SECONDS

    port = free_port()
    with refusing_url() as slack_url:
        env = {
            "QUOLUM_DATA_DIR": str(tmp_path),
            "SLACK_BOT_TOKEN": "xoxb-1-unchecked",
            "SLACK_APP_TOKEN": "xapp-1-A0QUOLUM-1-unchecked",
            "SLACK_API_URL": slack_url,
            "QUOLUM_ENCRYPTION_KEYS": TEST_KEY,
        }
        # Slack is checked before the port opens (auth.test, apps.connections.open): wait for that to say
        # Slack is unreachable, then the HTTP server must answer within 2 s.
        proc = serve_process(env, port)
        try:
            assert "could not check SLACK_BOT_TOKEN" in proc.stderr.readline()
            assert "could not check SLACK_APP_TOKEN" in proc.stderr.readline()
            assert wait_for_health(port, timeout=2.0) < 2.0
            time.sleep(2.5)  # a few reconnect attempts
            started = time.monotonic()
            proc.send_signal(stop)
            assert proc.wait(timeout=DRAIN_SECONDS) in (0, -stop, 128 + stop, 130)
            assert time.monotonic() - started < DRAIN_SECONDS
        finally:
            if proc.poll() is None:
                proc.kill()
        err = proc.communicate()[1]
    assert "Traceback" not in err and STOPPED in err
    retries = [line for line in err.splitlines() if "socket mode: cannot connect to Slack" in line]
    assert 1 <= len(retries) <= 4, retries  # backoff: 1 s, 2 s, 4 s ... one line each
    assert all(len(line) < 400 for line in retries)
    assert "xapp-1-A0QUOLUM-1-unchecked" not in err and "xoxb-1-unchecked" not in err


@pytest.mark.parametrize("fault", ["invalid_auth", "token_revoked", "account_inactive"])
def test_a_bot_token_slack_refuses_stops_serve_with_one_sentence(tmp_path, slack, fault):
    token = slack.workspaces["T0001"].bot_token
    if fault == "invalid_auth":
        token = "xoxb-fake"
    elif fault == "token_revoked":
        slack.revoke(token)
    else:
        slack.fail_next("auth.test", "account_inactive")
    env = {
        "QUOLUM_DATA_DIR": str(tmp_path),
        "SLACK_BOT_TOKEN": token,
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": f"{slack.url}/api/",
        "QUOLUM_ENCRYPTION_KEYS": TEST_KEY,
    }
    result = run("serve", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"quolum-bot: Slack refused SLACK_BOT_TOKEN ({fault}: ")
    assert token not in result.stderr


def test_the_license_is_an_spdx_string():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"  # a table is deprecated by setuptools (PEP 639)


SLACK_OK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}  # serve stops before calling Slack


def _database_fault(fault: str, tmp_path, refused_port: int) -> tuple[dict, str]:
    """The environment for one database or data-directory mistake, and what the sentence must name."""
    if fault == "garbage":
        return {"QUOLUM_DATABASE_URL": "garbage"}, "QUOLUM_DATABASE_URL is not a database URL"
    if fault == "mysql":
        return {
            "QUOLUM_DATABASE_URL": "mysql://u:p@db/quolum"
        }, "names mysql, which Quolum Bot does not support"
    if fault == "unreachable":
        url = f"postgresql://quolum:s3cret@127.0.0.1:{refused_port}/quolum"
        return {"QUOLUM_DATABASE_URL": url}, "cannot reach PostgreSQL at 127.0.0.1"
    if fault == "data-dir":
        (tmp_path / "a-file").write_text("")
        return {"QUOLUM_DATA_DIR": str(tmp_path / "a-file" / "data")}, "make QUOLUM_DATA_DIR"
    pg = os.environ.get("QUOLUM_TEST_POSTGRES_URL")
    if not pg:
        pytest.skip("needs QUOLUM_TEST_POSTGRES_URL")
    from sqlalchemy.engine import make_url

    url = make_url(pg)
    if fault == "bad-password":
        url = url.set(password="not-the-password")
        return {"QUOLUM_DATABASE_URL": url.render_as_string(False)}, "refused the user name or password"
    url = url.set(database="quolum_no_such_database")
    return {"QUOLUM_DATABASE_URL": url.render_as_string(False)}, "'quolum_no_such_database' does not exist"


@pytest.mark.parametrize(
    "fault,command",
    [
        ("garbage", "db current"),
        ("garbage", "serve"),
        ("mysql", "db upgrade"),
        ("mysql", "serve"),
        ("unreachable", "db current"),
        ("unreachable", "db upgrade"),
        ("unreachable", "usage collect"),
        ("unreachable", "serve"),
        ("data-dir", "db upgrade"),
        ("data-dir", "serve"),
        ("bad-password", "db current"),
        ("missing-database", "serve"),
    ],
)
def test_database_and_data_dir_mistakes_get_one_sentence_and_status_2(tmp_path, fault, command):
    with refusing_url() as refused:
        port = int(refused.split(":")[2].split("/")[0])
        env, named = _database_fault(fault, tmp_path, port)
        result = run(*command.split(), env={"QUOLUM_DATA_DIR": str(tmp_path), **SLACK_OK, **env})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("quolum-bot: ") and named in lines[0], result.stderr
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr


def test_db_current_does_not_create_a_database(tmp_path):
    result = run("db", "current", env={"QUOLUM_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 0
    assert result.stdout.startswith(
        f"database: none (no file at {tmp_path / 'data' / 'quolum.db'}); latest: "
    )
    assert not (tmp_path / "data").exists()


def test_usage_collect_checks_the_schema_before_making_a_key(tmp_path):
    import sqlite3

    sqlite3.connect(tmp_path / "quolum.db").close()  # a database file with no schema
    result = run("usage", "collect", env={"QUOLUM_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "quolum-bot: the database schema is not up to date: run `quolum-bot db upgrade` first."
    )
    assert not (tmp_path / "encryption.key").exists()
    for command in (["usage", "collect"], ["keys", "rotate"]):
        missing = run(*command, env={"QUOLUM_DATA_DIR": str(tmp_path / "none")})
        assert missing.returncode == 2 and missing.stderr.strip() == (
            "quolum-bot: there is no database yet: run `quolum-bot db upgrade` (or `serve`) first."
        )
        assert not (tmp_path / "none").exists()
