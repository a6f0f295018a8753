"""/metrics: Prometheus text from prometheus-client, counted where things happen, optionally behind a token."""

from __future__ import annotations

import random
import string

import httpx
import pytest
import respx
from prometheus_client.parser import text_string_to_metric_families

from bot.web import create_app
from core import metrics
from core.metrics import OTHER, REGISTRY
from providers.http import ProviderHTTP, Unauthorized
from providers.sendgrid.entry import POLICY as SENDGRID
from sandbox import slack_requests as sr
from tests.conftest import install


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(server, **headers) -> httpx.Response:
    return httpx.get(f"{server.url}/metrics", headers=headers, timeout=5)


async def test_requests_are_counted_by_route_and_outcome_with_latency(serve, settings, storage, slack):
    await install(storage, slack)
    server = serve(settings)
    events = {"route": "/slack/events", "method": "POST"}
    ok = sample("quolum_http_requests_total", outcome="ok", **events)
    unauthorized = sample("quolum_http_requests_total", outcome="unauthorized", **events)
    timed = sample("quolum_http_request_duration_seconds_count", route="/slack/events")
    body = sr.command("help")
    for _ in range(3):
        assert httpx.post(
            f"{server.url}/slack/events", content=body, headers=sr.signed_headers(body)
        ).is_success
    httpx.post(f"{server.url}/slack/events", content=body, headers={"X-Slack-Signature": "v0=00"})
    httpx.get(f"{server.url}/oauth/hubspot/start?state=secret-looking-state")
    httpx.get(f"{server.url}/no/such/page")

    response = scrape(server)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert {
        "quolum_http_requests",
        "quolum_http_request_duration_seconds",
        "quolum_provider_requests",
    } <= set(families)
    assert sample("quolum_http_requests_total", outcome="ok", **events) == ok + 3
    assert sample("quolum_http_requests_total", outcome="unauthorized", **events) == unauthorized + 1
    assert sample("quolum_http_request_duration_seconds_count", route="/slack/events") == timed + 4
    routes = {s.labels.get("route") for f in families.values() for s in f.samples}
    assert {"/oauth/{provider}/start", "other"} <= routes  # templates, never the raw path
    assert "/no/such/page" not in routes and "/oauth/hubspot/start" not in routes
    # nothing of a team's: no ids, tokens or states in any label
    ws = slack.workspaces["T0001"]
    for secretish in ("T0001", ws.bot_token, "secret-looking-state", settings.signing_secret):
        assert secretish not in response.text


async def test_metrics_token_is_required_when_set(serve, settings):
    server = serve(settings.with_overrides(metrics_token="m3trics-token-value"))
    assert scrape(server).status_code == 401
    assert scrape(server, Authorization="Bearer wrong").status_code == 401
    assert scrape(server, Authorization="Basic m3trics-token-value").status_code == 401
    allowed = scrape(server, Authorization="Bearer m3trics-token-value")
    assert allowed.status_code == 200 and "quolum_http_requests_total" in allowed.text


@pytest.mark.parametrize("statuses", [[429, 200], [401]])
async def test_provider_calls_are_counted_by_provider_and_status(statuses):
    async def no_sleep(_seconds: float) -> None:
        return None

    before = {
        s: sample("quolum_provider_requests_total", provider="sendgrid", status=str(s)) for s in statuses
    }
    limited = sample("quolum_provider_rate_limited_total", provider="sendgrid")
    url = "https://api.sendgrid.com/v3/teammates"
    with respx.mock() as router:
        router.get(url).side_effect = [
            httpx.Response(
                s, json={"errors": [{"field": None, "message": "x"}]}, headers={"Retry-After": "1"}
            )
            for s in statuses
        ]
        async with httpx.AsyncClient() as http:
            client = ProviderHTTP(http, SENDGRID, sleep=no_sleep)
            try:
                await client.get_json(url, auth=None, account_key="acct")
            except Unauthorized:
                pass
    for status in statuses:
        assert (
            sample("quolum_provider_requests_total", provider="sendgrid", status=str(status))
            == before[status] + 1
        )
    assert sample("quolum_provider_rate_limited_total", provider="sendgrid") == limited + statuses.count(429)


def test_colleagues_metrics_exist_for_digests_and_alerts():
    from core import metrics

    metrics.DIGESTS_POSTED.labels(cadence="weekly").inc()
    metrics.DIGESTS_FAILED.labels(reason="channel_not_found").inc()
    metrics.ALERTS_OPEN.labels(provider="hubspot").set(3)
    assert sample("quolum_alerts_open", provider="hubspot") == 3
    assert sample("quolum_digests_posted_total", cadence="weekly") >= 1


def series() -> set[tuple]:
    """Every HTTP series in the exposition (name and labels), as a scraper stores them (only HTTP: other
    tests' leftover threads in this process may still count provider calls meanwhile)."""
    text = metrics.exposition()[0].decode()
    return {
        (s.name, tuple(sorted(s.labels.items())))
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("quolum_http_")
    }


def made_up_method(rng: random.Random) -> str:
    while True:
        method = "".join(rng.choices(string.ascii_letters, k=rng.randint(3, 12)))
        if method.upper() not in metrics.HTTP_METHODS:
            return method


async def test_random_methods_and_paths_create_no_series(settings):
    """3,000 unauthenticated requests with made-up methods and paths through the real ASGI app."""
    app = create_app(settings)
    rng = random.Random(21)
    templates = [getattr(r, "path", "/") for r in app.routes]
    known = [t.replace("{", "").replace("}", "") for t in templates]  # a path each route matches
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot") as client:
        for path in [*known, "/no/such/page"]:  # each route's "made-up method" series, once
            await client.request(made_up_method(rng), path)
        before = series()
        for _ in range(3000):
            if rng.random() < 0.5:
                path = rng.choice(known)
            else:
                path = "/" + "/".join(
                    "".join(rng.choices(string.ascii_letters + string.digits + "-_.~%", k=rng.randint(1, 9)))
                    for _ in range(rng.randint(1, 4))
                )
            await client.request(made_up_method(rng), path)
    await app.state.services.storage.db.dispose()
    after = series()
    assert after == before, sorted(after - before)[:5]
    methods = {dict(labels).get("method") for name, labels in after if name == "quolum_http_requests_total"}
    assert methods <= metrics.HTTP_METHODS | {OTHER}


@pytest.mark.parametrize(
    ("metric", "given", "expected"),
    [
        ("HTTP_REQUESTS", ("/slack/events", "BREW", "rejected"), ("/slack/events", OTHER, "rejected")),
        ("HTTP_REQUESTS", ("/slack/events", "POST", "ok"), ("/slack/events", "POST", "ok")),
        ("PROVIDER_CALLS", ("sendgrid", "299"), ("sendgrid", OTHER)),
        ("PROVIDER_CALLS", ("sendgrid", "429"), ("sendgrid", "429")),
        ("PROVIDER_CALLS", ("sendgrid", "error"), ("sendgrid", "error")),
        ("DIGESTS_FAILED", ("<!channel> made-up error",), (OTHER,)),
        ("DIGESTS_FAILED", ("not_in_channel",), ("not_in_channel",)),
        ("TOKEN_REFRESHES", ("hubspot", "T0001"), ("hubspot", OTHER)),
        ("JOB_RUNS", ("digests", "maybe"), ("digests", OTHER)),
    ],
)
def test_labels_fed_from_outside_fold_into_other(metric, given, expected):
    bounded = getattr(metrics, metric)
    child = bounded.labels(*given)
    assert child is bounded.metric.labels(*expected)


def test_a_label_named_by_code_keeps_at_most_max_values():
    counter = metrics.Bounded(
        metrics.Counter,
        "quolum_test_bounded_" + "".join(random.choices(string.ascii_lowercase, k=8)),
        "t",
        team=metrics.CODE,
    )
    for i in range(metrics.MAX_VALUES * 3):
        counter.labels(team=f"T{i}").inc()
    teams = {s.labels["team"] for f in counter.metric.collect() for s in f.samples}
    REGISTRY.unregister(counter.metric)
    assert len(teams) == metrics.MAX_VALUES + 1 and OTHER in teams
