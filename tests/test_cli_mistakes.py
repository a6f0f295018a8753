"""The mistakes people make on the command line (issue 27, items 5 and 6; issue 21, item 10): each gets one
sentence on stderr and exit status 2, never a traceback, and nothing is done first."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import pytest

from tests.conftest import TEST_KEY
from tests.test_cli import CLEAN_ENV, CLI, SLACK_OK, refusing_url, run


def one_sentence(result: subprocess.CompletedProcess, *named: str) -> str:
    """The one line on stderr (asserting exit status 2 and no traceback), which names each of `named`."""
    assert "Traceback" not in result.stderr and "Exception in thread" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("quolum-bot: "), result.stderr
    assert all(name in lines[0] for name in named), lines[0]
    return lines[0]


@pytest.fixture
def upgraded(tmp_path) -> dict:
    """The environment of a data directory whose SQLite database is at the latest schema."""
    env = {"QUOLUM_DATA_DIR": str(tmp_path / "data"), "QUOLUM_ENCRYPTION_KEYS": TEST_KEY, **SLACK_OK}
    assert run("db", "upgrade", env=env).returncode == 0
    return env


# --- 27.5: tracebacks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tz", ["Mars/Base", "", "../../etc/passwd", "Europe/Nowhere"])
def test_digest_preview_with_a_time_zone_that_is_none(upgraded, tz):
    result = run("digest", "preview", "--team", "T0001", "--tz", tz, env=upgraded)
    one_sentence(result, "--tz must be a time zone", repr(tz))
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["serve", "doctor", "db current"])
def test_a_log_level_logging_does_not_know(tmp_path, command):
    env = {"QUOLUM_DATA_DIR": str(tmp_path), "QUOLUM_LOG_LEVEL": "verbose", **SLACK_OK}
    one_sentence(run(*command.split(), env=env), "QUOLUM_LOG_LEVEL must be one of", "'verbose'")
    assert not any(tmp_path.iterdir())  # refused before anything was made


def test_demo_open_on_a_busy_port_says_so_before_playing_the_story():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("demo", "--open", "--port", str(port), timeout=30)
    one_sentence(result, f"--port {port} cannot be used on 127.0.0.1 (in use)")
    assert result.stdout == ""  # no step of the story was played


def test_demo_open_on_a_port_that_is_no_port():
    one_sentence(run("demo", "--open", "--port", "70000", timeout=30), "--port must be a number")


def _without_root_privileges() -> list[str]:
    """A command prefix under which permissions hold: root ignores a directory's mode unless it gives up
    CAP_DAC_OVERRIDE (setpriv, util-linux); anyone else needs nothing."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only directory cannot be made")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all"]


@pytest.mark.parametrize("existing", [False, True], ids=["empty", "with-database"])
def test_db_upgrade_in_a_read_only_data_directory(tmp_path, existing):
    data = tmp_path / "data"
    env = {**CLEAN_ENV, "QUOLUM_DATA_DIR": str(data)}
    if existing:
        assert run("db", "upgrade", env=env).returncode == 0
    else:
        data.mkdir()
    data.chmod(0o555)
    try:
        for _ in range(4):  # the worker thread's exception came in 2 runs of 16
            result = subprocess.run(
                [*_without_root_privileges(), *CLI, "db", "upgrade"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            one_sentence(result, f"QUOLUM_DATA_DIR ({data}) a directory this user can write")
    finally:
        data.chmod(0o700)


# --- 21.10: every data-directory failure ------------------------------------------------------------------


@pytest.mark.parametrize("place", ["under-proc", "a-file", "under-a-file", "database-is-a-directory"])
@pytest.mark.parametrize("command", ["serve", "db upgrade"])
def test_a_data_directory_that_cannot_be(tmp_path, place, command):
    (tmp_path / "a-file").write_text("")
    data_dir = {
        "under-proc": "/proc/quolum-no-such-process/data",  # /proc refuses new entries: ENOENT
        "a-file": str(tmp_path / "a-file"),
        "under-a-file": str(tmp_path / "a-file" / "data"),
        "database-is-a-directory": str(tmp_path / "data"),
    }[place]
    if place == "database-is-a-directory":
        (tmp_path / "data" / "quolum.db").mkdir(parents=True)
    env = {"QUOLUM_DATA_DIR": data_dir, "QUOLUM_ENCRYPTION_KEYS": TEST_KEY, **SLACK_OK}
    one_sentence(run(*command.split(), env=env), f"make QUOLUM_DATA_DIR ({data_dir}) a directory")


def test_a_sqlite_url_under_a_path_that_cannot_exist_names_the_url(tmp_path):
    env = {"QUOLUM_DATABASE_URL": "sqlite:////proc/quolum-no-such-process/q.db", **SLACK_OK}
    one_sentence(run("db", "upgrade", env=env), "check the path in QUOLUM_DATABASE_URL")


# --- 27.6: accepted silently ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env,named",
    [
        ({"QUOLUM_PUBLIC_URL": "notaurl"}, "QUOLUM_PUBLIC_URL must be an http(s) URL"),
        ({"QUOLUM_ENCRYPTION_KEYS": ","}, "QUOLUM_ENCRYPTION_KEYS is set but holds no key"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "doctor"])
def test_configuration_that_was_accepted_silently(tmp_path, env, named, command):
    result = run(*command.split(), env={"QUOLUM_DATA_DIR": str(tmp_path), **SLACK_OK, **env})
    one_sentence(result, named)
    assert not (tmp_path / "encryption.key").exists()


def test_plain_http_public_url_on_a_public_host_is_a_warning_in_doctor(upgraded):
    with refusing_url() as nowhere:
        env = {**upgraded, "QUOLUM_PUBLIC_URL": "http://quolum.acme.com", "SLACK_API_URL": nowhere}
        result = run("doctor", env={**env, "SENDGRID_API_URL": nowhere.removesuffix("/api/")})
    warned = [line for line in result.stdout.splitlines() if line.startswith("warn")]
    assert warned == [
        "warn  config: QUOLUM_PUBLIC_URL is http://quolum.acme.com, plain http on a public host: OAuth "
        "redirects and links then travel unencrypted and Slack refuses http request URLs; use https."
    ]


@pytest.mark.parametrize("url", ["http://quolum.acme.com", "http://localhost:3000"])
def test_manifest_refuses_a_plain_http_url(url):
    result = run("manifest", "--url", url)
    one_sentence(result, "--url must be https", repr(url))
    assert result.stdout == ""


def test_manifest_for_socket_mode_needs_no_url():
    import yaml

    result = run("manifest", "--socket-mode")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "redirect_urls" not in manifest["oauth_config"] and "request_url" not in str(manifest)
    with_url = yaml.safe_load(run("manifest", "--socket-mode", "--url", "https://bot.acme.com").stdout)
    # the bot's own install first, then the callbacks of consents run through this Slack app
    redirects = with_url["oauth_config"]["redirect_urls"]
    assert redirects[0] == "https://bot.acme.com/slack/oauth_redirect"
    assert all(url.startswith("https://bot.acme.com/oauth/") for url in redirects[1:])
    one_sentence(run("manifest"), "--url is needed", "--socket-mode")


def test_digest_preview_of_a_workspace_nobody_knows(upgraded):
    result = run("digest", "preview", "--team", "TNOPE", env={**upgraded, "SLACK_CLIENT_ID": "1.2"})
    one_sentence(result, "--team 'TNOPE' is no workspace this bot knows")
    assert result.stdout == ""


def test_digest_preview_in_one_workspace_knows_the_tokens_own(upgraded, slack):
    env = {
        **upgraded,
        "SLACK_BOT_TOKEN": slack.workspaces["T0001"].bot_token,
        "SLACK_API_URL": f"{slack.url}/api/",
    }
    refused = run("digest", "preview", "--team", "TNOPE", env=env)
    one_sentence(refused, "--team 'TNOPE' is no workspace this bot knows", "known: T0001")
    own = run("digest", "preview", "--team", "T0001", env=env)
    assert own.returncode == 0 and "No accounts are connected yet" in own.stdout, own.stderr


def test_serve_warns_about_plain_http_on_a_public_host(upgraded, slack):
    env = {
        **upgraded,
        "QUOLUM_PUBLIC_URL": "http://quolum.acme.com",
        "SLACK_BOT_TOKEN": "xoxb-fake",  # refused: serve stops after the warning
        "SLACK_API_URL": f"{slack.url}/api/",
    }
    result = run("serve", env=env)
    warning, refusal = result.stderr.strip().splitlines()
    assert '"level": "warning"' in warning and "QUOLUM_PUBLIC_URL is http://quolum.acme.com" in warning
    assert refusal.startswith("quolum-bot: Slack refused SLACK_BOT_TOKEN") and result.returncode == 2


def test_version():
    from importlib.metadata import version

    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"quolum-bot {version('quolum-bot')}"


@pytest.mark.parametrize("fault", ["invalid_auth", "token_revoked"])
def test_serve_and_doctor_give_the_same_advice_for_the_same_slack_error(upgraded, slack, fault):
    token = "xoxb-fake" if fault == "invalid_auth" else slack.workspaces["T0001"].bot_token
    if fault == "token_revoked":
        slack.revoke(token)
    with refusing_url() as nowhere:
        env = {
            **upgraded,
            "SLACK_BOT_TOKEN": token,
            "SLACK_API_URL": f"{slack.url}/api/",
            "SENDGRID_API_URL": nowhere.removesuffix("/api/"),
        }
        served, doctored = run("serve", env=env), run("doctor", env=env)
    serve_says = one_sentence(served, f"({fault}: ").removeprefix("quolum-bot: ")
    doctor_says = [line for line in doctored.stdout.splitlines() if line.startswith("FAIL  slack: ")]
    assert doctor_says == [f"FAIL  slack: {serve_says}"]
