"""The failure classifier, table-driven with the providers' real error bodies."""

from __future__ import annotations

import httpx
import pytest

from providers.failures import classify as shared
from providers.http import NeedsReconnect
from providers.hubspot.client import classify
from providers.hubspot.entry import POLICY as HUBSPOT
from providers.hubspot.error_body import read_hubspot_error
from providers.retry import Fail, Reauth, decide
from providers.sendgrid.entry import POLICY as SENDGRID

CORRELATION = "aeb5f871-7f07-4993-9211-075dc63e7cbf"

# Token endpoint, legacy shape (v1): OAuth fields plus `status`.
LEGACY_REVOKED = {
    "error": "invalid_grant",
    "error_description": "refresh token is invalid, expired or revoked",
    "status": "BAD_REFRESH_TOKEN",
    "message": "refresh token is invalid, expired or revoked",
    "correlationId": CORRELATION,
}
# Date-versioned (2026-03 spec): `category` is required, the legacy `status` is gone.
CATEGORY_REVOKED = {
    "error": "invalid_grant",
    "error_description": "refresh token is invalid, expired or revoked",
    "category": "VALIDATION_ERROR",
    "message": "refresh token is invalid, expired or revoked",
    "correlationId": CORRELATION,
    "links": {"knowledge-base": "https://www.hubspot.com/products/service/knowledge-base"},
}
CATEGORY_BAD_CLIENT = {
    "error": "invalid_client",
    "error_description": "missing or invalid client secret",
    "category": "INVALID_AUTHENTICATION",
    "message": "missing or invalid client secret",
    "correlationId": CORRELATION,
}
LEGACY_BAD_CLIENT = {
    "error": "invalid_client",
    "error_description": "missing or unknown client id",
    "status": "BAD_CLIENT_ID",
    "message": "missing or unknown client id",
    "correlationId": CORRELATION,
}
BAD_HUB = {
    "error": "access_denied",
    "error_description": "the HubSpot account is deleted or disconnected",
    "status": "BAD_HUB",
    "message": "the HubSpot account is deleted or disconnected",
}
BAD_HUB_NO_STATUS = {k: v for k, v in BAD_HUB.items() if k != "status"} | {"category": "VALIDATION_ERROR"}
EXPIRED_CODE = {
    "error": "invalid_grant",
    "error_description": "auth code is expired",
    "category": "VALIDATION_ERROR",
    "message": "auth code is expired",
}
MISSING_SCOPES = {
    "status": "error",
    "message": "This app hasn't been granted all required scopes to make this call.",
    "correlationId": CORRELATION,
    "category": "MISSING_SCOPES",
    "errors": [
        {
            "message": "One or more of the following scopes are required.",
            "context": {"requiredGranularScopes": ["crm.objects.owners.read"]},
        }
    ],
}
EXPIRED_AUTH = {
    "status": "error",
    "message": "The OAuth token used to make this call expired 12 second(s) ago.",
    "correlationId": CORRELATION,
    "category": "EXPIRED_AUTHENTICATION",
}
RATE_LIMIT = {
    "status": "error",
    "message": "You have reached your ten_secondly_rolling limit.",
    "errorType": "RATE_LIMIT",
    "policyName": "TEN_SECONDLY_ROLLING",
    "correlationId": CORRELATION,
}
SENDGRID_401 = {"errors": [{"field": None, "message": "authorization required"}]}
SENDGRID_403 = {"errors": [{"field": None, "message": "access forbidden"}]}


def outcome(status: int, body: dict, policy=HUBSPOT):
    """The ProviderError the HTTP layer raises for this answer (retries exhausted)."""
    response = httpx.Response(status, json=body, request=httpx.Request("POST", "https://api.hubapi.com/x"))
    decision = decide(response, 99, policy, 0.0, rand=lambda: 0.0)
    assert isinstance(decision, Fail | Reauth)
    return decision.error


@pytest.mark.parametrize(
    "body,code",
    [
        (LEGACY_REVOKED, "invalid_grant"),  # `error` first, not `status`
        (CATEGORY_REVOKED, "invalid_grant"),  # not VALIDATION_ERROR
        (MISSING_SCOPES, "MISSING_SCOPES"),
        (RATE_LIMIT, "TEN_SECONDLY_ROLLING"),
        ({"status": "BAD_REFRESH_TOKEN", "message": "old"}, "BAD_REFRESH_TOKEN"),
        ({"status": "error", "message": "x"}, None),
        ("not json", None),
    ],
)
def test_the_deciding_code_reads_error_then_category_then_policy_then_status(body, code):
    assert read_hubspot_error(body).code == code


def test_correlation_id_is_kept():
    assert read_hubspot_error(CATEGORY_REVOKED).correlation_id == CORRELATION
    assert outcome(400, CATEGORY_REVOKED).correlation_id == CORRELATION


@pytest.mark.parametrize(
    "status,body,operation,kind",
    [
        (400, LEGACY_REVOKED, "refresh", "revoked"),
        (400, CATEGORY_REVOKED, "refresh", "revoked"),  # category and no status: still revoked
        (400, BAD_HUB, "refresh", "revoked"),
        (400, BAD_HUB_NO_STATUS, "refresh", "revoked"),
        (400, CATEGORY_BAD_CLIENT, "refresh", "configuration"),
        (400, LEGACY_BAD_CLIENT, "refresh", "configuration"),
        (400, CATEGORY_BAD_CLIENT, "exchange", "configuration"),
        (400, EXPIRED_CODE, "exchange", "bad_code"),
        (403, MISSING_SCOPES, "api", "scope_lost"),
        (401, EXPIRED_AUTH, "api", "revoked"),  # a 401 that survived the one refresh
        (429, RATE_LIMIT, "api", "transient"),
        (503, {"status": "error", "message": "Service Unavailable"}, "api", "transient"),
        (
            404,
            {"status": "error", "message": "Resource not found", "category": "OBJECT_NOT_FOUND"},
            "api",
            "transient",
        ),
    ],
)
def test_hubspot_failures(status, body, operation, kind):
    assert classify(outcome(status, body), operation).kind == kind


@pytest.mark.parametrize(
    "status,body,kind",
    [(401, SENDGRID_401, "revoked"), (403, SENDGRID_403, "scope_lost"), (503, SENDGRID_401, "transient")],
)
def test_sendgrid_failures(status, body, kind):
    assert shared(outcome(status, body, SENDGRID), "api", provider_name="SendGrid").kind == kind


def test_timeouts_dns_and_marked_connections():
    request = httpx.Request("GET", "https://api.hubapi.com/x")
    for exc in (httpx.ConnectTimeout("t", request=request), httpx.ConnectError("dns", request=request)):
        decision = decide(exc, 99, HUBSPOT, 0.0, rand=lambda: 0.0)
        assert classify(decision.error).kind == "transient"
    assert classify(NeedsReconnect("gone", provider="hubspot")).kind == "revoked"
    assert classify(RuntimeError("boom")).kind == "transient"


def test_only_the_lasting_kinds_are_incidents_at_once():
    assert classify(outcome(400, CATEGORY_REVOKED), "refresh").is_incident_now
    assert classify(outcome(400, CATEGORY_BAD_CLIENT), "refresh").is_incident_now
    assert not classify(outcome(503, {}), "api").is_incident_now
    assert not classify(outcome(400, EXPIRED_CODE), "exchange").is_incident_now
    assert "misconfigured" in classify(outcome(400, CATEGORY_BAD_CLIENT), "refresh").reason
