"""Shared fixtures: database backends, stand-ins, settings and the real server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.server import HEAD_TIMEOUT, uvicorn_options
from bot.web import create_app
from core.clock import utcnow
from core.config import Settings
from sandbox.slack_requests import SIGNING_SECRET
from sandbox.standins.server import ThreadedServer
from sandbox.standins.slack import SlackStandIn
from storage.crypto import Encryptor
from storage.db import Database
from storage.store import Storage

if "faketime" in os.environ.get("LD_PRELOAD", "") and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1":
    # Debian 12's libfaketime 0.9.10 answers EINVAL to the clock_nanosleep(CLOCK_MONOTONIC,
    # TIMER_ABSTIME) that Python's time.sleep uses once the monotonic clock is left real; select()'s
    # relative timeout is not affected. Tests only: the bot itself never calls time.sleep.
    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        select.select([], [], [], seconds)

    time.sleep = _sleep


def worker_postgres_url(url: str | None, worker: str | None) -> str | None:
    """The PostgreSQL URL one test process uses: under pytest-xdist each worker (gw0, gw1, ...) gets a
    database of its own, `<database>_<worker>`, because the session drops and recreates its schema."""
    if not url or not worker or worker == "master":
        return url
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


# Set in the environment too, so the tests that read it there and the CLI processes they start use the
# worker's own database.
POSTGRES_URL = worker_postgres_url(
    os.environ.get("QUOLUM_TEST_POSTGRES_URL"), os.environ.get("PYTEST_XDIST_WORKER")
)
if POSTGRES_URL:
    os.environ["QUOLUM_TEST_POSTGRES_URL"] = POSTGRES_URL
# Without QUOLUM_TEST_POSTGRES_URL the PostgreSQL copies are still collected, and skipped saying why.
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL copy: needs QUOLUM_TEST_POSTGRES_URL"),
    ),
]
TEST_KEY = "hFv2n3h0mK2d1vS7cQ3ZqLQ5yYxWZ0cC0vOqVQx8Q9E="
SHARED = Path(__file__).resolve().parents[2] / "shared"


def _pg_url() -> str:
    from core.config import normalise_database_url

    return normalise_database_url(POSTGRES_URL, Path("."))


def pytest_collection_modifyitems(items) -> None:
    """Tests marked `slow` (a minute of waiting on the real clock, a venv to install) go first, so that
    pytest-xdist hands them out at the start, to different workers, rather than last to one."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: otherwise as collected


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """This test process's own PostgreSQL database (created if missing), as a plain postgresql:// URL;
    skips without QUOLUM_TEST_POSTGRES_URL."""
    if not POSTGRES_URL:
        pytest.skip("needs QUOLUM_TEST_POSTGRES_URL")
    asyncio.run(create_database_if_missing(POSTGRES_URL))
    return POSTGRES_URL


@pytest.fixture(scope="session")
def _postgres_schema(postgres_url):
    """Migrate the test PostgreSQL database once per session, from an empty schema."""

    async def reset() -> None:
        db = Database(_pg_url())
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await db.upgrade()
        await db.dispose()

    asyncio.run(reset())
    return _pg_url()


async def create_database_if_missing(url: str) -> None:
    """CREATE DATABASE for a worker's own database (the test role has CREATEDB), connecting to the
    server's `postgres` database; two sessions creating it at once are fine."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database="postgres",
    )
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", parsed.database):
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await conn.close()


async def truncate_all(url: str) -> None:
    from storage.models import Base

    db = Database(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        # The database is this test process's own, so any other session on it is left over from an
        # earlier test (a server thread that did not stop in time, an engine never disposed). Left
        # idle in a transaction, it would make TRUNCATE wait for ever: end it first. Only our own
        # role's: a superuser's process on it (an autovacuum worker) cannot be ended by us, and trying
        # fails the test (seen once in CI, 5 Dec).
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND usename = current_user"
            )
        )
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await db.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    """An empty SQLite database migrated once per test process; each test gets a copy (migrating
    costs ~50 ms of CPU, copying ~1 ms, and about half the suite asks for a database)."""
    path = tmp_path_factory.mktemp("template") / "quolum.db"

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.upgrade()
        await db.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "quolum.db"
        template = request.getfixturevalue("_sqlite_template")
        # SQLite's backup API: a consistent copy whatever the journal mode
        with (
            contextlib.closing(sqlite3.connect(template)) as src,
            contextlib.closing(sqlite3.connect(path)) as dst,
        ):
            src.backup(dst)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("_postgres_schema")
    asyncio.run(truncate_all(url))
    return url


@pytest.fixture
def clock():
    """The one clock of a test: the real one unless a module overrides this fixture (e.g. with a
    `FrozenClock`). The test's own storage and the HubSpot stand-in read it, so a test that freezes
    time freezes it for every component it compares with."""
    return utcnow


@pytest.fixture
async def storage(database_url, clock):
    """The test's own view of the database (the server under test has its own engine)."""
    store = Storage(Database(database_url), Encryptor([TEST_KEY]), replica_id="test", clock=clock)
    yield store
    await store.db.dispose()


@pytest.fixture
def slack():
    standin = SlackStandIn()
    server = ThreadedServer(standin.app).start()
    standin.url = server.url
    standin.add_workspace("T0001", "Acme")
    yield standin
    server.stop()


@pytest.fixture
def settings(slack, database_url, tmp_path) -> Settings:
    """Multi-workspace settings pointed at the stand-ins."""
    return Settings(
        signing_secret=SIGNING_SECRET,
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        slack_api_url=f"{slack.url}/api/",
        public_url="http://localhost:3000",
        data_dir=tmp_path,
        database_url=database_url,
        encryption_keys=(TEST_KEY,),
        scheduler_enabled=False,
    )


@pytest.fixture
def serve():
    """Start the real app under uvicorn on a free port: `serve(settings, **create_app_kwargs)`."""
    servers: list[ThreadedServer] = []

    def start(settings: Settings, *, head_timeout: float = HEAD_TIMEOUT, **kwargs) -> ThreadedServer:
        # bind first: the public URL is the server's own; uvicorn as `serve` runs it
        server = ThreadedServer(None, lifespan="on", **uvicorn_options(head_timeout=head_timeout))
        server.settings = settings.with_overrides(public_url=server.url)
        server.app = create_app(server.settings, **kwargs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop()


async def install(storage: Storage, slack: SlackStandIn, team_id: str = "T0001") -> None:
    """Record a Slack installation for a stand-in workspace, as the OAuth flow would."""
    from sandbox.workspace import installation

    await storage.installations.async_save(installation(slack, team_id, "UINSTALLER"))


async def connect_hubspot(
    storage: Storage,
    hubspot,
    portal_id: int,
    scopes: list[str],
    *,
    team_id: str = "T0001",
    time_zone="US/Eastern",
):
    """Save a HubSpot connection to a stand-in portal, as the OAuth callback would."""
    tokens = hubspot.issue_tokens(portal_id, scopes)
    await storage.connections.save_connected(
        team_id=team_id,
        provider="hubspot",
        account_id=str(portal_id),
        account_name=f"portal{portal_id}.example.com",
        credentials={"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]},
        connected_by="U0001",
        scopes=tokens["scopes"],
        details={"time_zone": time_zone},
        expires_in=tokens["expires_in"],
    )
    return tokens


async def subscribe_due(storage: Storage, team_id: str, channel_id: str, schedule, now) -> None:
    """A digest subscription saved straight to storage, next due per `schedule` after `now`."""
    from services.digest_schedule import next_send

    await storage.digests.subscribe(
        team_id=team_id,
        channel_id=channel_id,
        cadence=schedule.cadence,
        weekday=schedule.weekday,
        send_time=schedule.send_time,
        timezone=schedule.timezone,
        subscriber_id="U0001",
        next_send_at=next_send(schedule, now),
    )


def hubspot_standin(clock, portals):
    """The HubSpot stand-in serving `portals`, on the test's clock: (stand-in, server)."""
    from sandbox.standins.hubspot import HubSpotStandIn

    standin = HubSpotStandIn(
        client_id=HUBSPOT_CLIENT_ID, client_secret=HUBSPOT_CLIENT_SECRET, clock=lambda: clock().timestamp()
    )
    for portal in portals:
        standin.add_portal(portal)
    server = ThreadedServer(standin.app).start()
    standin.url = server.url
    return standin, server


HUBSPOT_CLIENT_ID = "test-client-id"
HUBSPOT_CLIENT_SECRET = "test-client-secret"


@pytest.fixture
def hubspot(clock):
    """The HubSpot stand-in with two small portals (101 is installed by default), on the test's clock."""
    from datetime import UTC, datetime

    from sandbox.standins.hubspot_seed import generate_portal

    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC)
    portals = [
        generate_portal(
            p, portal_id=p, start=start, end=end, n_users=5, records_per_type=5, logins_per_user=2
        )
        for p in (101, 202)
    ]
    standin, server = hubspot_standin(clock, portals)
    yield standin
    server.stop()


@pytest.fixture
def hub_settings(settings, hubspot) -> Settings:
    return settings.with_overrides(
        hubspot_client_id=HUBSPOT_CLIENT_ID,
        hubspot_client_secret=HUBSPOT_CLIENT_SECRET,
        hubspot_api_url=hubspot.url,
        hubspot_authorize_url=f"{hubspot.url}/oauth/authorize",
    )


SENDGRID_ACCOUNT = "acme"


@pytest.fixture
def sendgrid(clock):
    """The SendGrid stand-in with one paid account, `acme` (`sendgrid.account`, from the seed), on the
    test's clock; mint keys with `sendgrid.add_key("acme", scopes)`."""
    from datetime import timedelta

    from sandbox.standins.sendgrid import SendGridStandIn
    from sandbox.standins.sendgrid_seed import generate_account

    standin = SendGridStandIn(clock=clock)
    end = clock().date()
    standin.account = generate_account(
        7, account_id=SENDGRID_ACCOUNT, start=end - timedelta(days=14), end=end, n_teammates=5
    )
    standin.add_account(standin.account)
    server = ThreadedServer(standin.app).start()
    standin.url = server.url
    yield standin
    server.stop()


@pytest.fixture
def sg_settings(settings, sendgrid) -> Settings:
    """`settings` with every SendGrid region pointed at the stand-in (SENDGRID_API_URL)."""
    return settings.with_overrides(sendgrid_api_url=sendgrid.url)


@pytest.fixture
async def chromium():
    """Debian's headless Chromium through playwright (never `playwright install`), loopback only."""
    import shutil

    from sandbox.page import CHROMIUM_ARGS

    if not shutil.which("chromium"):
        pytest.skip("needs Debian's chromium package (.ci/run installs it)")
    playwright_api = pytest.importorskip("playwright.async_api")
    # Under faketime (the moved-date CI run) Chromium hangs on start; it only renders our pages, so it
    # runs on the real clock: cookies and pages carry no time rule the browser itself enforces here.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS, env=env
        )
        yield browser
        await browser.close()
