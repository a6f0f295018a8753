"""GitHub hooks the catalogue cannot express: the shape of what was pasted, verifying a token against
an organisation, the hourly check, reading failures, and (seats.py) cancelling a Copilot seat.

Verifying (`verify_form`): ``GET /orgs/{org}`` proves the token and that it sees the organisation
(401: the token is wrong; 404: it cannot see it); ``GET /user`` names the token's owner (never
offered for reclaiming); then one cheap read per permission — ``GET /orgs/{org}/members?per_page=1``
and ``GET /orgs/{org}/copilot/billing`` — since a fine-grained token has no scope header (a classic
token's `X-OAuth-Scopes` is read too). A 403 on a probe is a permission the token lacks. Whether it
may cancel Copilot seats (reclaiming) comes from the classic scopes, or, for a fine-grained token, from
asking it to cancel nobody (`can_cancel_seats`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

from core.clock import utcnow
from core.config import Settings
from core.reports import InactiveSeat
from core.seats import SeatResult
from providers import failures
from providers.failures import Failure, Operation
from providers.github import api, seats
from providers.github.entry import (
    API_URL,
    COPILOT,
    COPILOT_WRITE,
    HEADERS,
    KEY,
    MAX_TOKEN_LENGTH,
    MEMBERS,
    PLAN,
    SPEC,
)
from providers.github.usage import collect_github
from providers.http import (
    Auth,
    Bearer,
    MissingScopes,
    ProviderError,
    ProviderHTTP,
    TransientError,
    Unauthorized,
)
from providers.plugin import BEARER, Checked, Connection, Verified

VERIFY_ACCOUNT = "verify"  # rate-limit key before the organisation is known
ORG_SHAPE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
TOKEN_SHAPE = re.compile(r"(?:gh[pou]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")

ORG_EMPTY = "Type the organisation's name, as in github.com/<name>."
ORG_MALFORMED = (
    "GitHub organisation names have letters, digits and single hyphens only, at most 39 characters."
)
TOKEN_EMPTY = "Paste the token GitHub showed you when you created it."
TOKEN_HAS_SPACES = "The token contains spaces or line breaks: copy it again, in one piece."
TOKEN_NOT_GITHUB = "This does not look like a GitHub token: fine-grained tokens start with github_pat_, classic ones with ghp_."
TOKEN_TOO_LONG = f"This is longer than any GitHub token ({MAX_TOKEN_LENGTH} characters)."

BAD_CREDENTIALS = (
    "GitHub did not accept this token (Bad credentials): it may have been mistyped, have expired or have "
    "been revoked. Check it, or create a new one."
)
ORG_NOT_VISIBLE = (
    "GitHub says this token cannot see the organisation {org}: check its name, that the token's owner is "
    "a member of it, and that a fine-grained token's resource owner is the organisation."
)
# what a token without each read permission cannot do, for the one sentence naming what it lacks
CANNOT = {MEMBERS: "list the organisation's members", COPILOT: "read Copilot billing"}
LACKS = (
    "The token cannot {what}: give it *{permissions}* (a classic token: the `read:org` scope), then paste "
    "it with Reconnect."
)
REVOKED_REASON = "GitHub no longer accepts the token (Bad credentials): it expired, or was deleted or revoked"
ORG_GONE_REASON = (
    "the GitHub token can no longer see the organisation (its owner left it, or access was removed)"
)


def token_problem(text: str | None) -> str | None:
    token = (text or "").strip()
    if not token:
        return TOKEN_EMPTY
    if len(token) > MAX_TOKEN_LENGTH:
        return TOKEN_TOO_LONG
    if any(ch.isspace() for ch in token):
        return TOKEN_HAS_SPACES
    return None if TOKEN_SHAPE.fullmatch(token) else TOKEN_NOT_GITHUB


def missing_sentence(missing: tuple[str, ...] | list[str]) -> str:
    """One sentence naming the read permissions a token lacks and how to give them ("" if none)."""
    known = [p for p in (MEMBERS, COPILOT) if p in missing]
    if not known:
        return ""
    return LACKS.format(
        what=" or ".join(CANNOT[p] for p in known), permissions="* and *".join(p for p in known)
    )


def org_problem(text: str | None) -> str | None:
    org = (text or "").strip()
    if not org:
        return ORG_EMPTY
    return None if ORG_SHAPE.fullmatch(org) else ORG_MALFORMED


class OrgNotVisible(ProviderError):
    """404 for the organisation: it does not exist, or the token may not see it."""


def feature_of(error: ProviderError) -> str | None:
    """The permission a 403 was about, from the request it names (`where` holds no query values)."""
    text = error.message
    if "/copilot/" in text:
        return COPILOT
    if "/members" in text:
        return MEMBERS
    return None


class GitHubClient:
    """GitHub's hooks (providers/plugin.py `Hooks`). `timeout`: seconds per request while a person
    waits in the modal."""

    collect = staticmethod(collect_github)

    def __init__(
        self,
        http: ProviderHTTP,
        settings: Settings,
        *,
        timeout: float = 8.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.clock = clock
        self.http = http
        self.spec = SPEC
        self.url = (SPEC.setting(settings, API_URL) or SPEC.api_base_url).rstrip("/")
        self.timeout = timeout

    # --- failures ----------------------------------------------------------------------------------
    def classify(self, error: Exception, operation: Operation = "api") -> Failure:
        if isinstance(error, OrgNotVisible) or (
            isinstance(error, ProviderError) and not isinstance(error, TransientError) and error.status == 404
        ):
            return Failure("revoked", ORG_GONE_REASON, code="404")
        if isinstance(error, Unauthorized):
            return Failure("revoked", REVOKED_REASON, code="401")
        failure = failures.classify(error, operation, provider_name=SPEC.display_name)
        if failure.kind == "scope_lost" and isinstance(error, ProviderError):
            return Failure("scope_lost", failure.reason, feature=feature_of(error), code="403")
        return failure

    def base_url(self, credentials: Mapping[str, Any]) -> str:
        return self.url

    def reachable_urls(self) -> list[str]:
        return [self.url]

    # --- reads -------------------------------------------------------------------------------------
    async def _org(self, token: str, org: str, account: str, **kwargs):
        try:
            return await api.get(
                self.http, f"{self.url}/orgs/{org}", auth=Bearer(token), account=account, **kwargs
            )
        except ProviderError as error:
            if error.status == 404 and not isinstance(error, TransientError):
                raise OrgNotVisible(ORG_NOT_VISIBLE.format(org=org), provider=KEY, status=404) from None
            raise

    async def _probe(self, token: str, path: str, account: str, **kwargs) -> str:
        """ "ok", "forbidden" (403: the permission is missing), "revoked" (401) or "unknown"."""
        try:
            await api.get(self.http, f"{self.url}{path}", auth=Bearer(token), account=account, **kwargs)
        except MissingScopes:
            return "forbidden"
        except Unauthorized:
            return "revoked"
        except ProviderError:
            return "unknown"
        return "ok"

    async def permissions(self, token: str, org: str, account: str, **kwargs) -> dict[str, str]:
        """Each read permission's probe: permission -> "ok" | "forbidden" | "revoked" | "unknown"."""
        paths = {MEMBERS: f"/orgs/{org}/members?per_page=1", COPILOT: f"/orgs/{org}/copilot/billing"}
        outcomes = await asyncio.gather(
            *(self._probe(token, path, account, **kwargs) for path in paths.values())
        )
        return dict(zip(paths, outcomes, strict=True))

    # --- the credential form -----------------------------------------------------------------------
    def problem(self, name: str, value: str) -> str | None:
        return org_problem(value) if name == "org" else token_problem(value)

    async def verify_form(self, values: Mapping[str, str]) -> Verified:
        """Raise `ProviderError` (`Unauthorized`: a wrong token; `OrgNotVisible`) or say what it may read."""
        org, token = (values.get("org") or "").strip(), (values.get("token") or "").strip()
        quick = {"timeout": self.timeout, "max_retries": 1}  # a person is waiting
        response = await self._org(token, org, VERIFY_ACCOUNT, **quick)
        about = api.body(response) or {}
        classic = api.classic_scopes(response)
        (me, probes) = await asyncio.gather(
            api.get_json(self.http, f"{self.url}/user", auth=Bearer(token), account=VERIFY_ACCOUNT, **quick),
            self.permissions(token, org, VERIFY_ACCOUNT, **quick),
        )
        granted = {p for p, outcome in probes.items() if outcome == "ok"}
        if isinstance(about.get("plan"), dict):
            granted.add(PLAN)
        login = str(about.get("login") or org)
        write = COPILOT in granted and await self.can_cancel_seats(token, login, classic, **quick)
        missing = tuple(s for s in SPEC.required_scopes if probes.get(s) == "forbidden")
        return Verified(
            account_id=str(about.get("id") or login),
            account_name=login,
            scopes=(
                *(s.name for s in SPEC.scopes if s.name in granted),
                *((COPILOT_WRITE,) if write else ()),
            ),
            missing=missing,
            missing_sentence=missing_sentence(missing),
            write_scopes=(COPILOT_WRITE,) if write else (),
            credentials={BEARER: token, "org": login},
            details={
                "org": login,
                "token_owner": str((me or {}).get("login") or ""),
                "token_kind": "classic" if classic is not None else "fine-grained",
                "classic_scopes": list(classic or ()),
            },
        )

    async def can_cancel_seats(self, token: str, org: str, classic: tuple[str, ...] | None, **kwargs) -> bool:
        """Whether the token may cancel Copilot seats. A classic token's scopes say so; a fine-grained
        token's permissions cannot be read, so it is asked to cancel nobody (an empty
        `selected_usernames`): GitHub checks the permission first (403 without it), then refuses the
        empty list (422). Nothing changes either way."""
        if classic is not None:
            return COPILOT_WRITE in api.permissions_of(classic)
        try:
            await self.http.request(
                "DELETE",
                f"{self.url}/orgs/{org}/copilot/billing/selected_users",
                auth=Bearer(token),
                account_key=VERIFY_ACCOUNT,
                headers=HEADERS,
                json={"selected_usernames": []},
                **kwargs,
            )
        except ProviderError as error:
            return error.status == 422 and not isinstance(error, TransientError | MissingScopes)
        return True

    def verify_failure(self, error: ProviderError) -> Literal["rejected", "unavailable", "failed"]:
        if isinstance(error, Unauthorized):
            return "rejected"
        if isinstance(error, TransientError):
            return "unavailable"
        return "failed"

    def verify_message(self, error: ProviderError) -> str | None:
        """The one sentence for a failed connect, where GitHub's answer says more than its kind."""
        if isinstance(error, Unauthorized):
            return BAD_CREDENTIALS
        if isinstance(error, OrgNotVisible):
            return error.message
        return None

    # --- health --------------------------------------------------------------------------------------
    async def check(self, connection: Connection, auth: Auth, now: datetime) -> Checked:
        """Hourly: 401 -> revoked; the organisation gone from view -> revoked; a 403 on one read ->
        that permission unavailable."""
        token, org = connection.credentials.get(BEARER), connection.credentials.get("org")
        if not token or not org:
            return Checked(Failure("transient", "GitHub is not answering"), reason="no token stored")
        try:
            await self._org(token, org, connection.account_key)
        except ProviderError as error:
            failure = self.classify(error)
            return Checked(failure, reason=None if failure.kind != "transient" else str(error))
        probes = await self.permissions(token, org, connection.account_key)
        if "revoked" in probes.values():
            return Checked(Failure("revoked", REVOKED_REASON, code="401"))
        granted = [p for p, outcome in probes.items() if outcome == "ok"]
        if PLAN in connection.scopes:
            granted.append(PLAN)
        # the write permission is not probed hourly (that probe is a DELETE): a reclaim it no longer
        # allows answers 403, said as missing the permission
        write = (COPILOT_WRITE,) if COPILOT in granted and COPILOT_WRITE in connection.scopes else ()
        return Checked(
            scopes=(*(s.name for s in SPEC.scopes if s.name in granted), *write),
            unavailable=tuple(p for p, outcome in probes.items() if outcome == "forbidden"),
            unknown=tuple(p for p, outcome in probes.items() if outcome == "unknown"),
        )

    async def access(self, credentials: Mapping[str, Any], account_key: str) -> list[str]:
        """`doctor`: the required permissions the token lacks (raises when it does not work)."""
        token, org = credentials[BEARER], credentials["org"]
        await self._org(token, org, account_key)
        probes = await self.permissions(token, org, account_key)
        if "revoked" in probes.values():
            raise Unauthorized("GitHub rejected the token (401).", provider=KEY, status=401)
        return [p for p in SPEC.required_scopes if probes.get(p) == "forbidden"]

    # --- seats ----------------------------------------------------------------------------------------
    def protected(self, connection: Connection, seat: InactiveSeat) -> str | None:
        return seats.protected(connection, seat)

    async def reclaim(self, connection: Connection, auth: Auth, seat: InactiveSeat) -> SeatResult:
        return await seats.reclaim(self.http, self.url, connection, auth, seat)
