"""The GitHub stand-in, exercised over real HTTP as the bot uses it: shapes, headers, paging, errors,
scopes and permissions, rate limits, and cancelling a seat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sandbox.standins.github import CLASSIC_PATTERN, FINE_GRAINED_PATTERN, NO_USER_AGENT, GitHubStandIn
from sandbox.standins.github_seed import copilot_truth, generate_org, next_cycle
from sandbox.standins.server import AppSwitch, serve_in_thread

NOW = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)
ORG = "acme-corp"
VERSION = {"X-GitHub-Api-Version": "2022-11-28", "Accept": "application/vnd.github+json"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def org():
    return generate_org(7, login=ORG, now=NOW)


@pytest.fixture(scope="module")
def _server():
    switch = AppSwitch()
    with serve_in_thread(switch) as server:
        yield server, switch


@pytest.fixture
def standin(_server, clock, org) -> GitHubStandIn:
    server, switch = _server
    github = GitHubStandIn(clock=clock)
    github.add_org(org)
    switch.app = github.app
    return github


@pytest.fixture
def http(_server):
    with httpx.Client(base_url=_server[0].url, timeout=5, headers=VERSION) as client:
        yield client


def owner(org) -> str:
    return next(m.login for m in org.members if m.role == "admin")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------- the seed
def test_the_seed_is_deterministic_relative_to_now_and_has_every_kind_of_seat(org):
    assert generate_org(7, login=ORG, now=NOW) == org
    later = generate_org(7, login=ORG, now=NOW + timedelta(days=400))
    assert [s.login for s in later.seats] == [s.login for s in org.seats]
    assert later.seats[0].created_at - org.seats[0].created_at == timedelta(days=400)

    truth = copilot_truth(org, NOW - timedelta(days=30), NOW)
    assert len(org.members) == 300 and truth.seats == 180 and len(truth.owners) == 4
    assert truth.active and truth.idle and truth.never_used and truth.pending
    assert set(truth.never_used) < set(truth.idle)
    assert len(truth.active) + len(truth.idle) + len(truth.pending) == truth.seats
    assert all(
        s.pending_cancellation_date == next_cycle(NOW.date())
        for s in org.seats
        if s.pending_cancellation_date
    )
    assert any(s.assigning_team for s in org.seats)
    assert org.filled_seats == 303 and org.plan_seats > org.filled_seats


# --------------------------------------------------------------------------- headers, errors
def test_a_user_agent_is_required(standin, org, http):
    token = standin.add_classic_token(owner(org), ["read:org"])
    response = http.get(f"/orgs/{ORG}", headers={**auth(token), "User-Agent": ""})
    assert response.status_code == 403 and response.text == NO_USER_AGENT


@pytest.mark.parametrize(
    "header,message",
    [
        (None, "Requires authentication"),
        ("Bearer ghp_" + "x" * 36, "Bad credentials"),
        ("Basic abc", "Requires authentication"),
    ],
)
def test_credentials_are_checked(standin, http, header, message):
    response = http.get(f"/orgs/{ORG}", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json() == {
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }


def test_an_unknown_api_version_is_refused(standin, org, http):
    token = standin.add_classic_token(owner(org), ["read:org"])
    response = http.get(f"/orgs/{ORG}", headers={**auth(token), "X-GitHub-Api-Version": "2020-01-01"})
    assert response.status_code == 400 and response.json()["status"] == "400"


def test_token_shapes_and_scope_headers(standin, org, http):
    classic = standin.add_classic_token(owner(org), ["read:org", "manage_billing:copilot"])
    fine = standin.add_fine_grained_token(owner(org), ORG, {"organization_copilot_seat_management": "read"})
    assert CLASSIC_PATTERN.fullmatch(classic) and FINE_GRAINED_PATTERN.fullmatch(fine)

    answer = http.get(f"/orgs/{ORG}/copilot/billing", headers=auth(classic))
    assert answer.headers["x-oauth-scopes"] == "read:org, manage_billing:copilot"
    assert answer.headers["x-accepted-oauth-scopes"] == "manage_billing:copilot, read:org"
    for name in ("limit", "remaining", "used", "reset", "resource"):
        assert answer.headers[f"x-ratelimit-{name}"]

    answer = http.get(f"/orgs/{ORG}/copilot/billing", headers=auth(fine))
    assert answer.status_code == 200 and "x-oauth-scopes" not in answer.headers
    assert "organization_copilot_seat_management=read" in answer.headers["x-accepted-github-permissions"]


@pytest.mark.parametrize(
    "kind,grant,path,status",
    [
        ("classic", ["manage_billing:copilot"], "/members", 403),
        ("classic", ["read:org"], "/members", 200),
        ("classic", ["admin:org"], "/members", 200),  # admin:org includes read:org
        ("classic", [], "/copilot/billing/seats", 403),
        ("fine", {"members": "read"}, "/copilot/billing", 403),
        ("fine", {"organization_copilot_seat_management": "write"}, "/copilot/billing/seats", 200),
        ("fine", {}, "/members", 403),
        ("fine", {"members": "write"}, "/members", 200),
    ],
)
def test_scopes_and_permissions_are_enforced(standin, org, http, kind, grant, path, status):
    if kind == "classic":
        token = standin.add_classic_token(owner(org), grant)
    else:
        token = standin.add_fine_grained_token(owner(org), ORG, grant)
    response = http.get(f"/orgs/{ORG}{path}", headers=auth(token))
    assert response.status_code == status
    if status == 403:
        assert response.json()["message"] == "Resource not accessible by personal access token"


def test_copilot_is_for_owners_and_the_plan_for_owners_who_may_read_it(standin, org, http):
    member = next(m.login for m in org.members if m.role == "member")
    token = standin.add_classic_token(member, ["read:org", "admin:org"])
    assert http.get(f"/orgs/{ORG}/copilot/billing", headers=auth(token)).status_code == 403
    assert "plan" not in http.get(f"/orgs/{ORG}", headers=auth(token)).json()
    read_only = standin.add_classic_token(owner(org), ["read:org"])
    assert "plan" not in http.get(f"/orgs/{ORG}", headers=auth(read_only)).json()
    admin = standin.add_classic_token(owner(org), ["admin:org"])
    plan = http.get(f"/orgs/{ORG}", headers=auth(admin)).json()["plan"]
    assert (plan["seats"], plan["filled_seats"]) == (org.plan_seats, org.filled_seats)


def test_an_organisation_the_token_cannot_see_is_not_found(standin, org, http):
    standin.add_org(generate_org(8, login="other-org", now=NOW, n_members=5, n_seats=1))
    fine = standin.add_fine_grained_token(
        owner(org), "other-org", {"members": "read"}
    )  # owner not a member there
    classic = standin.add_classic_token(owner(org), ["read:org"])
    for token, name in ((fine, ORG), (classic, "other-org"), (classic, "no-such-org")):
        response = http.get(f"/orgs/{name}", headers=auth(token))
        assert response.status_code == 404 and response.json()["message"] == "Not Found"


# --------------------------------------------------------------------------- paging
def test_paging_follows_link_headers(standin, org, http):
    token = standin.add_classic_token(owner(org), ["read:org"])
    first = http.get(f"/orgs/{ORG}/copilot/billing/seats", params={"per_page": 500}, headers=auth(token))
    body = first.json()
    assert body["total_seats"] == 180 and len(body["seats"]) == 100  # per_page is at most 100
    assert first.links["next"]["url"].endswith("per_page=100&page=2") and "prev" not in first.links
    second = http.get(first.links["next"]["url"], headers=auth(token))
    assert len(second.json()["seats"]) == 80 and "next" not in second.links
    assert {"first", "prev"} <= set(second.links)
    logins = [s["assignee"]["login"] for s in body["seats"] + second.json()["seats"]]
    assert logins == [s.login for s in org.seats]

    default = http.get(f"/orgs/{ORG}/members", headers=auth(token))
    assert len(default.json()) == 30 and default.links["last"]["url"].endswith("page=10")
    owners = http.get(f"/orgs/{ORG}/members", params={"role": "admin"}, headers=auth(token))
    assert [m["login"] for m in owners.json()] == [m.login for m in org.members if m.role == "admin"]
    assert "Link" not in owners.headers


def test_seat_shape(standin, org, http):
    token = standin.add_classic_token(owner(org), ["read:org"])
    seat = http.get(f"/orgs/{ORG}/copilot/billing/seats", headers=auth(token)).json()["seats"][0]
    assert set(seat) >= {
        "created_at",
        "pending_cancellation_date",
        "last_activity_at",
        "last_activity_editor",
        "plan_type",
        "assignee",
        "assigning_team",
    }
    assert seat["assignee"]["login"] == org.seats[0].login and seat["assignee"]["type"] == "User"
    never = next(s.login for s in org.seats if s.last_activity_at is None)
    detail = http.get(f"/orgs/{ORG}/members/{never}/copilot", headers=auth(token)).json()
    assert detail["last_activity_at"] is None and detail["last_activity_editor"] is None


# --------------------------------------------------------------------------- cancelling
def test_cancelling_a_seat(standin, org, http, clock):
    token = standin.add_classic_token(owner(org), ["manage_billing:copilot"])
    login = next(s.login for s in org.seats if not s.pending_cancellation_date and not s.assigning_team)
    path = f"/orgs/{ORG}/copilot/billing/selected_users"

    def cancel(names):
        return http.request("DELETE", path, json={"selected_usernames": names}, headers=auth(token))

    assert cancel([login]).json() == {"seats_cancelled": 1}
    assert cancel([login]).json() == {"seats_cancelled": 0}  # already pending
    assert standin.cancelled == [(ORG, login)]
    seat = http.get(f"/orgs/{ORG}/members/{login}/copilot", headers=auth(token)).json()
    assert seat["pending_cancellation_date"] == next_cycle(NOW.date()).isoformat()  # still listed until then

    clock.now = datetime.combine(next_cycle(NOW.date()), datetime.min.time(), UTC).timestamp()
    assert http.get(f"/orgs/{ORG}/members/{login}/copilot", headers=auth(token)).status_code == 404

    team = next(s.login for s in org.seats if s.assigning_team)
    assert cancel([team]).status_code == 422
    assert cancel([]).status_code == 422
    assert cancel(["not-a-member-here"]).status_code == 422
    read_only = standin.add_classic_token(owner(org), ["read:org"])
    refused = http.request("DELETE", path, json={"selected_usernames": [team]}, headers=auth(read_only))
    assert refused.status_code == 403


# --------------------------------------------------------------------------- rate limits
@pytest.mark.parametrize("status", [403, 429])
def test_the_primary_hour(_server, clock, org, http, status):
    github = GitHubStandIn(clock=clock, primary=3, refusal_status=status)
    github.add_org(org)
    _server[1].app = github.app
    token = github.add_classic_token(owner(org), ["read:org"])
    answers = [http.get(f"/orgs/{ORG}", headers=auth(token)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, status]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert "API rate limit exceeded" in answers[-1].json()["message"]
    assert int(answers[-1].headers["x-ratelimit-reset"]) == int(NOW.timestamp()) + 3600
    clock.now += 3600
    assert http.get(f"/orgs/{ORG}", headers=auth(token)).status_code == 200


def test_the_secondary_minute(_server, clock, org, http):
    github = GitHubStandIn(clock=clock, points=12)
    github.add_org(org)
    _server[1].app = github.app
    token = github.add_classic_token(owner(org), ["read:org", "manage_billing:copilot"])
    answers = [http.get(f"/orgs/{ORG}", headers=auth(token)) for _ in range(10)]
    assert all(a.status_code == 200 for a in answers)
    login = next(s.login for s in org.seats if not s.pending_cancellation_date and not s.assigning_team)
    delete = http.request(
        "DELETE",
        f"/orgs/{ORG}/copilot/billing/selected_users",
        json={"selected_usernames": [login]},
        headers=auth(token),
    )
    assert (
        delete.status_code == 403 and "secondary rate limit" in delete.json()["message"]
    )  # 5 points > 2 left
    assert 1 <= int(delete.headers["retry-after"]) <= 61
    clock.now += 61
    assert http.get(f"/orgs/{ORG}", headers=auth(token)).status_code == 200
    assert github.limits.violations == {"primary": 0, "secondary": 1}
