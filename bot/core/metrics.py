"""Every Prometheus metric of the bot, defined once (prometheus-client); served at /metrics.

Import the metric you need and count: `JOB_RUNS.labels(job="digests", outcome="ok").inc()`. Labels are
bounded, known sets — route templates, provider names, HTTP statuses, job names, outcomes — and never hold a
team's data or secrets (no team ids, tokens, user ids or raw paths).

One registry of our own (not prometheus-client's global one) so the exposition holds exactly what is listed
here plus the process collectors.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)

REGISTRY = CollectorRegistry()
process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

# Slack answers within 3 s or shows an error: the buckets are finest below that.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "quolum_http_requests",
    "HTTP requests served, by route template, method and outcome (ok, rejected, unauthorized, malformed...).",
    ["route", "method", "outcome"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "quolum_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["route"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
PROVIDER_CALLS = Counter(
    "quolum_provider_requests",
    "HTTP requests sent to a provider (each attempt), by provider and status code ('error' when none came).",
    ["provider", "status"],
    registry=REGISTRY,
)
PROVIDER_LATENCY = Histogram(
    "quolum_provider_request_duration_seconds",
    "Time a provider took to answer one attempt, by provider.",
    ["provider"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "quolum_provider_rate_limited",
    "429 answers from a provider, by provider.",
    ["provider"],
    registry=REGISTRY,
)
TOKEN_REFRESHES = Counter(
    "quolum_token_refreshes",
    "OAuth access-token refreshes, by provider and outcome (ok, failed, revoked).",
    ["provider", "outcome"],
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "quolum_job_runs",
    "Scheduled job runs this replica claimed, by job and outcome (ok, failed).",
    ["job", "outcome"],
    registry=REGISTRY,
)
DIGESTS_POSTED = Counter(
    "quolum_digests_posted",
    "Scheduled usage digests posted to Slack (one per subscription and period), by cadence.",
    ["cadence"],
    registry=REGISTRY,
)
DIGESTS_FAILED = Counter(
    "quolum_digests_failed",
    "Scheduled usage digests Slack refused, by reason (its error code).",
    ["reason"],
    registry=REGISTRY,
)
ALERTS_OPEN = Gauge(
    "quolum_alerts_open",
    "Alerts currently open, by provider (set by the alert code from the database, so every replica agrees).",
    ["provider"],
    registry=REGISTRY,
)


def exposition() -> tuple[bytes, str]:
    """The current values in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
