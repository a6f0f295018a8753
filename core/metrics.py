"""Every Prometheus metric of the bot, defined once (prometheus-client); served at /metrics.

Import the metric you need and count: `JOB_RUNS.labels(job="digests", outcome="ok").inc()`. Labels are
bounded, known sets — route templates, provider names, HTTP statuses, job names, outcomes — and never hold a
team's data or secrets (no team ids, tokens, user ids or raw paths).

Every metric is wrapped in `Bounded`, so no caller can create series at will: a label fed from outside
(the HTTP method a client sends, a status a provider answers) takes its value from a fixed set, anything
else folds into `other`; a label our own code names (routes, providers, jobs, outcomes, Slack's error codes)
keeps at most `MAX_VALUES` distinct values, later ones fold into `other` too. prometheus-client has no
such bound of its own, hence this wrapper.

One registry of our own (not prometheus-client's global one) so the exposition holds exactly what is listed
here plus the process collectors.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from http import HTTPStatus
from typing import Any

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

OTHER = "other"
MAX_VALUES = 40  # distinct values a code-named label may take before it folds into `other`
MAX_CHILDREN = 4096  # label-value tuples `Bounded.labels` remembers per metric
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
HTTP_STATUSES = frozenset({str(s.value) for s in HTTPStatus} | {"error"})
# chat.postMessage's documented error codes (and our "error" when Slack named none): Slack chooses the string
SLACK_POST_ERRORS = frozenset(
    """
    access_denied account_inactive as_user_not_supported cannot_reply_to_message channel_not_found
    deprecated_endpoint duplicate_channel_not_found duplicate_message_not_found ekm_access_denied
    enterprise_is_restricted fatal_error internal_error invalid_arg_name invalid_arguments invalid_array_arg
    invalid_auth invalid_blocks invalid_blocks_format invalid_charset invalid_form_data invalid_metadata_format
    invalid_metadata_schema invalid_post_type is_archived message_limit_exceeded messages_tab_disabled
    metadata_must_be_sent_from_app metadata_too_large method_deprecated missing_post_type missing_scope
    msg_too_long no_permission no_text not_allowed_token_type not_authed not_in_channel org_login_required
    rate_limited ratelimited request_timeout restricted_action restricted_action_non_threadable_channel
    restricted_action_read_only_channel restricted_action_thread_locked restricted_action_thread_only_channel
    service_unavailable team_access_not_granted team_added_to_org token_expired token_revoked
    too_many_attachments too_many_contact_cards two_factor_setup_required error
    """.split()
)


def fold(value: object, allowed: Collection[str]) -> str:
    """`value` as a label if it is one of `allowed`, else `other`."""
    text = str(value)
    return text if text in allowed else OTHER


CODE = None  # a label's bound in `Bounded`: values our code names, at most MAX_VALUES of them


class Bounded:
    """A prometheus-client metric whose `labels(...)` can only ever create a bounded number of series.

    Each label is declared with its bound: a fixed set of values (anything else is `other`), or `CODE`
    (the first `MAX_VALUES` distinct values are kept, later ones are `other`).
    """

    def __init__(self, kind, name: str, documentation: str, *, buckets=None, **labels) -> None:
        options = {"buckets": buckets} if buckets is not None else {}
        self.names: tuple[str, ...] = tuple(labels)
        self.metric = kind(name, documentation, self.names, registry=REGISTRY, **options)
        self.fixed: dict[str, Collection[str]] = {k: v for k, v in labels.items() if v is not CODE}
        self._seen: dict[str, set[str]] = {k: set() for k, v in labels.items() if v is CODE}
        self._lock = threading.Lock()  # the scheduler's jobs may count from another thread
        self._children: dict[tuple[str, ...], Any] = {}

    def labels(self, *values: object, **named: object):
        """The series for these label values (folded). A call with positional values only is
        remembered by their text (at most `MAX_CHILDREN` of them): folding and prometheus-client's
        own `labels()` cost about 7 µs a call, which every provider request paid three times. The
        series for a given text never changes: a value kept stays kept, one folded into `other`
        stays folded (folding reads `str(value)` only)."""
        if named:
            return self._labels(values, named)
        key = tuple(map(str, values))
        child = self._children.get(key)
        if child is None:
            child = self._labels(values, named)
            if len(self._children) < MAX_CHILDREN:
                self._children[key] = child
        return child

    def _labels(self, values: tuple[object, ...], named: dict[str, object]):
        given = dict(zip(self.names, values, strict=False)) | named
        return self.metric.labels(**{name: self._fold(name, given[name]) for name in self.names})

    def _fold(self, name: str, value: object) -> str:
        if name in self.fixed:
            return fold(value, self.fixed[name])
        text, seen = str(value), self._seen[name]
        with self._lock:
            if text in seen:
                return text
            if len(seen) < MAX_VALUES:
                seen.add(text)
                return text
        return OTHER


# Slack answers within 3 s or shows an error: the buckets are finest below that.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)

# Each label with its bound: a fixed set, or CODE (values our code names, at most MAX_VALUES of them).
HTTP_REQUESTS = Bounded(
    Counter,
    "quolum_http_requests",
    "HTTP requests served, by route template, method and outcome (ok, rejected, unauthorized, malformed...).",
    route=CODE,  # a route template of ours, `other` for a path no route matches
    method=HTTP_METHODS,  # the client chooses it: anything but the standard methods is `other`
    outcome=CODE,
)
HTTP_LATENCY = Bounded(
    Histogram,
    "quolum_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    route=CODE,
    buckets=LATENCY_BUCKETS,
)
PROVIDER_CALLS = Bounded(
    Counter,
    "quolum_provider_requests",
    "HTTP requests sent to a provider (each attempt), by provider and status code ('error' when none came).",
    provider=CODE,
    status=HTTP_STATUSES,  # the provider chooses it
)
PROVIDER_LATENCY = Bounded(
    Histogram,
    "quolum_provider_request_duration_seconds",
    "Time a provider took to answer one attempt, by provider.",
    provider=CODE,
    buckets=LATENCY_BUCKETS,
)
RATE_LIMITED = Bounded(
    Counter, "quolum_provider_rate_limited", "429 answers from a provider, by provider.", provider=CODE
)
TOKEN_REFRESHES = Bounded(
    Counter,
    "quolum_token_refreshes",
    "OAuth access-token refreshes, by provider and outcome (ok, failed, revoked).",
    provider=CODE,
    outcome=frozenset({"ok", "failed", "revoked"}),
)
JOB_RUNS = Bounded(
    Counter,
    "quolum_job_runs",
    "Scheduled job runs this replica claimed, by job and outcome (ok, failed).",
    job=CODE,
    outcome=frozenset({"ok", "failed"}),
)
DIGESTS_POSTED = Bounded(
    Counter,
    "quolum_digests_posted",
    "Scheduled usage digests posted to Slack (one per subscription and period), by cadence.",
    cadence=CODE,
)
DIGESTS_FAILED = Bounded(
    Counter,
    "quolum_digests_failed",
    "Scheduled usage digests Slack refused, by reason (its error code).",
    reason=SLACK_POST_ERRORS,
)
ALERTS_OPEN = Bounded(
    Gauge,
    "quolum_alerts_open",
    "Alerts currently open, by provider (set by the alert code from the database, so every replica agrees).",
    provider=CODE,
)


def exposition() -> tuple[bytes, str]:
    """The current values in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
