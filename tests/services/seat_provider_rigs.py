"""GitHub and Zoom behind one small interface, for the tests that drive them through the real app
(tests/services/test_github_zoom_app.py): each rig serves the provider's stand-in on its own port,
seeded relative to the test's clock, says what to paste into the credential modal (good, wrong, too
few permissions) and the sentence each must give, revokes access at the stand-in, counts the seed's
truth without HTTP, and counts the seat writes the stand-in accepted."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from providers.github import client as github_client
from providers.zoom import client as zoom_client
from sandbox.standins.github import GitHubStandIn
from sandbox.standins.github_seed import Org, copilot_truth, generate_org
from sandbox.standins.server import ThreadedServer
from sandbox.standins.zoom import ZoomStandIn
from sandbox.standins.zoom_seed import ZoomAccount, generate_account
from sandbox.standins.zoom_seed import truth as zoom_truth

GITHUB_ORG = "acme-corp"
GITHUB_READ = {"members": "read", "organization_copilot_seat_management": "read"}
GITHUB_WRITE = {"members": "read", "organization_copilot_seat_management": "write"}
ZOOM_READ = ["user:read:admin"]
ZOOM_WRITE = ["user:read:admin", "user:write:admin"]


@dataclass(frozen=True)
class Truth:
    """What a collection over a period must report, counted from the seed."""

    paid: int
    idle: tuple[str, ...]  # the provider's user ids of the idle paid seats
    idle_admins: tuple[str, ...]


@dataclass
class Rig:
    key: str
    display_name: str
    standin: object
    url: str
    settings: dict[str, str]  # `Settings.with_overrides` pointing the bot at the stand-in
    good: Callable[..., dict[str, str]]  # (write=False) -> the form's values of a working credential
    wrong: Callable[[], dict[str, str]]  # values the provider refuses
    wrong_sentence: str
    too_few: Callable[[], dict[str, str]]  # values of a credential lacking a required permission
    too_few_sentence: str
    revoke: Callable[[dict[str, str]], None]  # the provider stops accepting these values
    truth: Callable[[datetime], Truth]  # over a period starting then
    writes: Callable[[], list[str]]  # the user ids whose seat the stand-in took, one per accepted write
    reclaimable: Callable[[Truth], str]  # an idle seat the provider lets go (no admin's, no team's)
    stop: Callable[[], None] = field(default=lambda: None)


def github_rig(clock: Callable[[], datetime]) -> Rig:
    org: Org = generate_org(7, login=GITHUB_ORG, now=clock(), n_members=40, n_seats=24)
    standin = GitHubStandIn(clock=clock)
    standin.add_org(org)
    server = ThreadedServer(standin.app).start()
    owner = next(m.login for m in org.members if m.role == "admin")

    def good(write: bool = False) -> dict[str, str]:
        token = standin.add_fine_grained_token(owner, GITHUB_ORG, GITHUB_WRITE if write else GITHUB_READ)
        return {"org": GITHUB_ORG, "token": token}

    def revoke(values: dict[str, str]) -> None:
        standin.revoke(values["token"])

    def truth(start: datetime) -> Truth:
        found = copilot_truth(org, start, clock())
        owners = set(found.owners)
        return Truth(
            paid=len(found.active) + len(found.idle),
            idle=found.idle,
            idle_admins=tuple(login for login in found.idle if login in owners),
        )

    return Rig(
        key="github",
        display_name="GitHub",
        standin=standin,
        url=server.url,
        settings={"github_api_url": server.url},
        good=good,
        wrong=lambda: {"org": GITHUB_ORG, "token": "github_pat_" + secrets.token_hex(30)},
        wrong_sentence=github_client.BAD_CREDENTIALS,
        too_few=lambda: {
            "org": GITHUB_ORG,
            "token": standin.add_fine_grained_token(owner, GITHUB_ORG, {"members": "read"}),
        },
        too_few_sentence=github_client.missing_sentence((github_client.COPILOT,)),
        revoke=revoke,
        truth=truth,
        writes=lambda: [login for _, login in standin.cancelled],
        reclaimable=lambda truth: next(
            login
            for login in truth.idle
            if login not in truth.idle_admins and not org.seat(login).assigning_team
        ),
        stop=server.stop,
    )


def zoom_rig(clock: Callable[[], datetime]) -> Rig:
    account: ZoomAccount = generate_account(11, now=clock(), n_users=40)
    standin = ZoomStandIn(clock=clock)
    standin.add_account(account)
    server = ThreadedServer(standin.app).start()

    def app(scopes: list[str]) -> dict[str, str]:
        client_id, secret = standin.add_app(account.account_id, scopes)
        return {"account_id": account.account_id, "client_id": client_id, "client_secret": secret}

    def truth(start: datetime) -> Truth:
        found = zoom_truth(account, start)
        return Truth(paid=found.licensed, idle=found.idle_licensed, idle_admins=found.idle_admins)

    def writes() -> list[str]:
        return [
            str(request["path"]).rsplit("/", 1)[1]
            for request in standin.requests
            if request["method"] == "PATCH" and json.loads(str(request["body"]) or "{}").get("type") == 1
        ]

    return Rig(
        key="zoom",
        display_name="Zoom",
        standin=standin,
        url=server.url,
        settings={"zoom_api_url": server.url, "zoom_oauth_url": server.url},
        good=lambda write=False: app(ZOOM_WRITE if write else ZOOM_READ),
        wrong=lambda: {**app(ZOOM_READ), "client_secret": secrets.token_urlsafe(24)},
        wrong_sentence=zoom_client.WRONG_CREDENTIALS,
        too_few=lambda: app(["report:read:admin"]),
        too_few_sentence=zoom_client.NO_READ,
        revoke=lambda values: standin.deactivate(values["client_id"]),
        truth=truth,
        writes=writes,
        reclaimable=lambda truth: next(u for u in truth.idle if u not in truth.idle_admins),
        stop=server.stop,
    )


RIGS = {"github": github_rig, "zoom": zoom_rig}
