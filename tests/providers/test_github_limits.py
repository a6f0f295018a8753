"""GitHub's rate limits, from the client's side: the policy's reading of 403/429 answers (pure,
table-driven), and collections against a stand-in that enforces primary and secondary limits."""

from __future__ import annotations

import httpx
import pytest

from providers.github.entry import POLICY, SPEC
from providers.http import RateLimited
from providers.retry import Fail, Retry, decide
from sandbox.standins.github_seed import copilot_truth, generate_org
from tests.providers import github_world
from tests.providers.github_world import FINE_ALL, NOW, ORG, PERIOD, world_of

T = 1_780_000_000.0
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
PRIMARY = "API rate limit exceeded for user ID 1."
served, recording = github_world.served, github_world.recording  # the fixtures


def answer(status: int, message: str, **headers: str) -> httpx.Response:
    request = httpx.Request("GET", "https://api.github.com/orgs/acme/members")
    body = {"message": message, "documentation_url": "https://docs.github.com/rest", "status": str(status)}
    return httpx.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(
    "response,decision,wait",
    [
        (answer(403, SECONDARY, **{"retry-after": "30"}), Retry, 30.0),
        (answer(429, SECONDARY, **{"retry-after": "7"}), Retry, 7.0),
        (answer(403, SECONDARY), Retry, 60.0),  # no retry-after: at least a minute
        (
            answer(403, PRIMARY, **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(T) + 100)}),
            Retry,
            101.0,
        ),
        # the hour resets too late to wait for: give up, saying when (the caller reschedules)
        (
            answer(403, PRIMARY, **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(T) + 1800)}),
            Fail,
            1801.0,
        ),
        (answer(403, "Resource not accessible by personal access token"), Fail, None),  # a permission
        (answer(401, "Bad credentials"), None, None),
    ],
)
def test_the_policy_reads_github_refusals(response, decision, wait):
    outcome = decide(response, 1, POLICY, T, rand=lambda: 0.5)
    if decision is None:
        assert type(outcome).__name__ == "Reauth"
        return
    assert isinstance(outcome, decision)
    if decision is Retry:
        assert outcome.wait == pytest.approx(wait)
    elif wait is not None:
        assert isinstance(outcome.error, RateLimited) and outcome.error.retry_after == pytest.approx(wait)
    else:
        assert type(outcome.error).__name__ == "MissingScopes"


def test_the_entry_books_githubs_documented_limits():
    buckets = SPEC.limits.buckets
    assert (buckets["default"].limit, buckets["default"].window) == (5000, 3600.0)
    assert (buckets["minute"].limit, buckets["minute"].window) == (900, 60.0)
    assert SPEC.limits.buckets_for(None) == ("default", "minute")


async def test_github_limits_are_never_exceeded(served, recording):
    world = world_of(served, recording)
    token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_ALL)
    report = await world.collect(token)
    assert report.values()["copilot_idle"] == len(
        copilot_truth(world.org, PERIOD.start_utc, PERIOD.end_utc).idle
    )
    assert world.standin.limits.violations == {"primary": 0, "secondary": 0}


@pytest.mark.parametrize("status", [403, 429])
async def test_a_secondary_limit_is_waited_out(served, recording, status):
    world = world_of(served, recording, points=25, refusal_status=status)
    token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_ALL)
    started = world.time.time()
    report = await world.collect(token)
    truth = copilot_truth(world.org, PERIOD.start_utc, PERIOD.end_utc)
    assert report.values()["copilot_idle"] == len(truth.idle)
    assert sorted(s.user_id for s in report.seats.inactive_paid_users) == list(truth.idle)
    assert world.standin.limits.violations["secondary"] > 0  # it was refused, and waited
    assert world.time.time() - started >= 60  # (virtual) minutes passed as GitHub asked


async def test_an_exhausted_hour_gives_up_saying_when(served, recording):
    org = generate_org(5, login=ORG, now=NOW, n_members=150, n_seats=60)
    world = world_of(served, recording, org, primary=12)
    token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_ALL)
    with pytest.raises(RateLimited) as caught:
        await world.collect(token)
    assert caught.value.retry_after is not None and caught.value.retry_after > POLICY.max_wait
    assert world.hooks().classify(caught.value).kind == "transient"
    # no hammering an exhausted hour: the requests in flight when it ran out are refused once each, and
    # none is sent again (GitHub may ban integrations that keep calling while limited)
    refused = [request for kind, request in world.standin.refused if kind == "primary"]
    assert refused and len(refused) == len(set(refused))
    assert len(world.standin.requests) - 12 == len(refused)  # 12 served, then only those in flight
