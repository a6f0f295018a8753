"""The demo workspace: who is in it, its channels, what the stand-ins are seeded with, the bot's settings
for the sandbox and the installation Slack's OAuth would have stored. No servers here (environment.py
starts them) and no time (clock.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

from providers.sendgrid.entry import SPEC as SENDGRID
from sandbox.standins.hubspot import HubSpotStandIn
from sandbox.standins.hubspot_seed import SEAT_NAMES, User, generate_portal
from sandbox.standins.sendgrid import SendGridStandIn
from sandbox.standins.sendgrid_seed import generate_account
from sandbox.standins.slack import SlackStandIn

TEAM_ID, TEAM_NAME = "TDEMO0001", "Acme Inc"
GENERAL, SAAS_USAGE = "CGENERAL1", "CSAASUSE1"
CHANNELS = {GENERAL: "general", SAAS_USAGE: "saas-usage"}
HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET = "demo-hubspot-client", "demo-hubspot-secret"
SENDGRID_ACCOUNT = "acme"
PORTAL_ID, PORTAL_DOMAIN = 4242, "acme.hubspot.example"  # the seeded HubSpot portal
# Paid seats bought for people who never used them: whatever the week, the digest has idle seats to name.
UNUSED_SEATS = (("Casey", "Contractor"), ("Robin", "Temp"))
# Max holds a paid HubSpot seat he never used, under the email he has in Slack: the idle-seats loop asks him.
MAX_HUBSPOT_ID, SEAT_PRICE = 7_900_100, 50  # the seat price Ada sets, in dollars a month
SENDGRID_SCOPES = [scope.name for scope in SENDGRID.scopes]  # every scope the modal asks for
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SLACK_CREDENTIALS = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
)


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    role: str
    flags: Mapping[str, bool]

    @property
    def email(self) -> str:
        return f"{self.name.lower()}@{PORTAL_DOMAIN}"

    @property
    def mention(self) -> str:
        return f"<@{self.user_id}|{self.name.lower()}>"


ADA = Person("UADA00001", "Ada", "Slack admin", {"is_admin": True})
MAX = Person("UMAX00002", "Max", "member", {})
DANA = Person("UDANA0003", "Dana", "SendGrid admin", {})
PEOPLE = (ADA, MAX, DANA)


def refuse_real_slack(environ: Mapping[str, str]) -> str | None:
    """Why the sandbox must not start in this environment, or None. It only ever talks to its own
    stand-ins: Slack credentials, or SLACK_API_URL off loopback, mean someone's real Slack is configured."""
    for name in SLACK_CREDENTIALS:
        if environ.get(name):
            return (
                f"{name} is set, so this shell is configured for a real Slack app; the demo only talks to "
                f"its own stand-ins on 127.0.0.1. Run it without the SLACK_* variables (e.g. `env -u {name} ...`)."
            )
    url = environ.get("SLACK_API_URL")
    if url and urlparse(url).hostname not in LOOPBACK:
        return f"SLACK_API_URL points at {urlparse(url).hostname}; the demo only runs against 127.0.0.1."
    return None


def seed(slack: SlackStandIn, hubspot: HubSpotStandIn, sendgrid: SendGridStandIn) -> None:
    """The workspace, its channels and people in Slack; a seeded portal in HubSpot, an account in
    SendGrid, both with four weeks of activity up to today."""
    slack.add_workspace(TEAM_ID, TEAM_NAME)
    for channel_id, name in CHANNELS.items():
        slack.add_channel(channel_id, name, team_id=TEAM_ID)
    for person in PEOPLE:
        slack.add_user(
            person.user_id,
            TEAM_ID,
            name=person.name.lower(),
            real_name=person.name,
            profile={"email": person.email, "display_name": person.name.lower()},
            **person.flags,
        )
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    portal = generate_portal(
        14,
        portal_id=PORTAL_ID,
        start=end - timedelta(days=28),
        end=end,
        n_users=12,
        records_per_type=40,
        logins_per_user=6,
        domain=PORTAL_DOMAIN,
    )
    for number, (first, last) in enumerate(UNUSED_SEATS):
        portal.users.append(
            User(
                id=7_900_000 + number,
                email=f"{first.lower()}.{last.lower()}@{PORTAL_DOMAIN}",
                first_name=first,
                last_name=last,
                role_id="102",  # Sales Hub Professional, as the seed's own seat holders have it
                role_ids=["102"],
                primary_team_id=None,
                super_admin=False,
                seat_names=[SEAT_NAMES[0]],
            )
        )
    portal.users.append(
        User(
            id=MAX_HUBSPOT_ID,
            email=MAX.email,
            first_name=MAX.name,
            last_name="Lind",
            role_id="102",
            role_ids=["102"],
            primary_team_id=None,
            super_admin=False,
            seat_names=[SEAT_NAMES[0]],
        )
    )
    hubspot.add_portal(portal)
    sendgrid.account = generate_account(
        14,
        account_id=SENDGRID_ACCOUNT,
        start=end.date() - timedelta(days=28),
        end=end.date(),
        n_teammates=6,
    )
    sendgrid.add_account(sendgrid.account)


def demo_keys(sendgrid: SendGridStandIn) -> list[dict]:
    """Keys made in the SendGrid stand-in's account for whoever plays on the sandbox page, as the demo's
    Dana makes one: a restricted key with the scopes the modal asks for, and a deleted one (SendGrid
    answers 401)."""
    key = sendgrid.add_key(SENDGRID_ACCOUNT, SENDGRID_SCOPES)
    wrong = sendgrid.add_key(SENDGRID_ACCOUNT, SENDGRID_SCOPES)
    sendgrid.revoke_key(wrong)
    return [
        {"id": "sendgrid-key", "label": "SendGrid restricted key", "key": key},
        {"id": "sendgrid-wrong-key", "label": "A deleted SendGrid key", "key": wrong},
    ]


def settings_for(
    *,
    signing_secret: str,
    data_dir: Path,
    slack: SlackStandIn,
    hubspot: HubSpotStandIn,
    sendgrid: SendGridStandIn,
    more: Mapping[str, str] | None = None,
):
    """The bot's Settings in the sandbox: SQLite in `data_dir`, every API a stand-in on 127.0.0.1 (`more`:
    the other stand-ins' settings, standins/sandboxed.py)."""
    from core.config import Settings
    from storage.crypto import generate_key

    return Settings(
        signing_secret=signing_secret,
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        slack_api_url=f"{slack.url}/api/",
        public_url="http://127.0.0.1",
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'quolum.db'}",
        encryption_keys=(generate_key(),),
        scheduler_enabled=False,
        log_level="WARNING",
        provider_values={
            "HUBSPOT_CLIENT_ID": HUBSPOT_CLIENT_ID,
            "HUBSPOT_CLIENT_SECRET": HUBSPOT_CLIENT_SECRET,
            "HUBSPOT_API_URL": hubspot.url,
            "HUBSPOT_AUTHORIZE_URL": f"{hubspot.url}/oauth/authorize",
            "SENDGRID_API_URL": sendgrid.url,
            **(more or {}),
        },
    )


async def install(settings, slack: SlackStandIn) -> None:
    """Migrate the database and record the demo workspace's installation, as Slack's OAuth would."""
    from bot.web import build_storage

    storage = build_storage(settings, replica_id="sandbox-setup")
    try:
        await storage.db.upgrade()
        await storage.installations.async_save(installation(slack, TEAM_ID, ADA.user_id))
    finally:
        await storage.db.dispose()


def installation(slack: SlackStandIn, team_id: str, installer: str):
    """The Installation Slack's OAuth flow would store for a stand-in workspace."""
    from slack_sdk.oauth.installation_store.models.installation import Installation

    ws = slack.workspaces[team_id]
    return Installation(
        app_id="A0QUOLUM",
        team_id=ws.team_id,
        team_name=ws.name,
        bot_token=ws.bot_token,
        bot_id=ws.bot_id,
        bot_user_id=ws.bot_user_id,
        bot_scopes="commands,chat:write,chat:write.public,im:write,users:read,users:read.email,channels:read,groups:read",
        user_id=installer,
    )
