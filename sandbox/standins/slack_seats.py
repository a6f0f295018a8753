"""The Slack stand-in's seat methods (mixed into SlackStandIn): what a workspace owner's or admin's
user token reads and does, as Slack's Web API and SCIM references describe it.

- `users.list` pages (`limit` ≤ 1000, `cursor` / `response_metadata.next_cursor`, `team_id`), and
  answers `missing_scope` (`needed: users:read`) to a token without that scope.
- `team.billableInfo` (user token, `admin`): `billable_info: {user_id: {billing_active}}`, cursor paging.
- `team.accessLogs` (user token, `admin`, paid plans): `logins` newest first, `count` ≤ 1000 and
  `page` ≤ 100 (`over_pagination_limit` beyond), `before` (inclusive), `paging` {count,total,page,pages}.
- A bot token on those answers `not_allowed_token_type`; a free plan `paid_only`; a token without
  `admin` `missing_scope` with `needed: admin`.
- Tier 2 (`tier2_per_minute` calls a minute per method and workspace; None: unlimited): HTTP 429
  `ratelimited` with `Retry-After`.
- Enterprise Grid org-wide installs (`add_org_install`): the org's tokens must pass `team_id`
  (`missing_argument` without it, `team_access_not_granted` for a workspace the app was not added to);
  a workspace's own token reads its own workspace, its `team_id` ignored, as Slack says.
- SCIM (`DELETE /scim/v2/Users/{id}`): slack_scim.py.

`oauth.v2.access` gives the admin's user token for a code issued by `issue_user_code` (`authed_user`,
`user_scope`). The seed's truth is counted without HTTP (`seats_truth`).
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from sandbox.standins.slack_responses import fail, ok

PAID_PLANS = frozenset({"pro", "business_plus", "enterprise"})
MAX_LIMIT, MAX_PAGES = 1000, 100
TIER2_METHODS = frozenset({"users.list", "team.billableInfo", "team.accessLogs"})


@dataclass
class UserGrant:
    team_id: str
    user_id: str
    scopes: tuple[str, ...]
    refresh_token: str | None = None


@dataclass
class SeatsWorkspace:
    plan: str = "business_plus"  # free | pro | business_plus | enterprise
    billing: dict[str, bool] = field(default_factory=dict)  # user id -> billing_active
    logins: list[dict] = field(default_factory=list)  # access log entries, newest first


@dataclass(frozen=True)
class Truth:
    """What the seed holds, counted without HTTP, as the provider should report it."""

    members: int
    multi_guests: int
    single_guests: int
    deactivated: int
    billable: int
    idle: frozenset[str]  # billable members with no access since the period began
    still_billed: int


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.b64decode(cursor).decode().partition(":")
        return int(value) if kind == "offset" else None
    except (ValueError, UnicodeDecodeError):
        return None


class SeatsMixin:
    """Seat methods on SlackStandIn's `users` and `workspaces`, under its lock."""

    def _seats_init(self) -> None:
        self.seat_workspaces: dict[str, SeatsWorkspace] = {}
        self.user_grants: dict[str, UserGrant] = {}  # user token -> who granted what
        self.user_codes: dict[str, UserGrant] = {}  # oauth code -> the grant it gives
        self.scim_deletes: list[str] = []  # user ids deactivated through SCIM, in order
        self.tier2_per_minute: int | None = None  # 20: Tier 2 as Slack counts it (tests switch it on)
        self._tier2: dict[tuple[str, str], list[float]] = {}
        self.tier2_refused = 0  # 429s answered for Tier 2
        self.current_token: str | None = None
        self.consenting: tuple[str, str] | None = None  # (team, user) who approves the consent page
        self.org_installs: dict[str, tuple[str, ...]] = {}  # Enterprise Grid org -> workspaces granted

    # --- set-up ----------------------------------------------------------------------------------
    def seats_of(self, team_id: str) -> SeatsWorkspace:
        with self._lock:
            return self.seat_workspaces.setdefault(team_id, SeatsWorkspace())

    def set_plan(self, team_id: str, plan: str) -> None:
        self.seats_of(team_id).plan = plan

    def add_org_install(self, enterprise_id: str, name: str, teams: tuple[str, ...]) -> str:
        """An org-wide install on Enterprise Grid: one bot token for the org (`E…`), the app granted to
        `teams`. Its tokens (and an org admin's, `grant_user_token(enterprise_id, …)`) must name the
        workspace: `team_id` is "required if org token is used" (Slack's references of users.list,
        team.billableInfo, team.accessLogs); a workspace the app was not granted is refused."""
        ws = self.add_workspace(enterprise_id, name, enterprise_id=enterprise_id)
        with self._lock:
            self.org_installs[enterprise_id] = tuple(teams)
        return ws.bot_token

    def _workspace_named(self, args, ws):
        """(the workspace a seat method reads, None) or (None, the refusal): an org's token names it. A
        workspace's token reads its own workspace whatever `team_id` says: "The team_id is only relevant
        when using an org-level token. This field will be ignored if the API call is sent using a
        workspace-level token" (Slack, api.slack.com/enterprise/apps/changes-apis)."""
        granted = self.org_installs.get(ws.team_id) if ws is not None else None
        team = args.get("team_id")
        if granted is None:
            return ws, None
        if not team:
            return None, fail("missing_argument")
        if team not in granted:
            return None, fail("team_access_not_granted")
        return self.workspaces[team], None

    def grant_user_token(
        self,
        team_id: str,
        user_id: str,
        scopes: tuple[str, ...] = ("admin", "users:read"),
        rotating: bool = False,
    ) -> str:
        token = f"xoxp-{team_id}-{secrets.token_hex(12)}"
        grant = UserGrant(team_id, user_id, scopes, f"xoxe-1-{secrets.token_hex(12)}" if rotating else None)
        with self._lock:
            self.tokens[token] = team_id
            self.user_grants[token] = grant
        return token

    def issue_user_code(
        self, team_id: str, user_id: str, scopes: tuple[str, ...] = ("admin", "users:read")
    ) -> str:
        """A code oauth.v2.access exchanges for `user_id`'s user token (what Slack's consent page gives)."""
        code = f"ucode-{secrets.token_hex(8)}"
        with self._lock:
            self.user_codes[code] = UserGrant(team_id, user_id, scopes)
        return code

    def log_access(self, team_id: str, user_id: str, at: datetime, *, count: int = 1) -> None:
        stamp = int(at.timestamp())
        entry = {
            "user_id": user_id,
            "username": user_id.lower(),
            "date_first": stamp - 3600,
            "date_last": stamp,
            "count": count,
            "ip": "192.0.2.10",
            "user_agent": "Slack/4.41 (Mac)",
            "isp": "Example ISP",
            "country": "DE",
            "region": "BE",
        }
        seats = self.seats_of(team_id)
        with self._lock:
            seats.logins.append(entry)

    def sort_logs(self, team_id: str) -> None:
        seats = self.seats_of(team_id)
        with self._lock:
            seats.logins.sort(key=lambda e: e["date_last"], reverse=True)

    def seats_truth(self, team_id: str, since: datetime) -> Truth:
        seats = self.seats_of(team_id)
        start = int(since.timestamp())
        with self._lock:
            users = [u for u in self.users.values() if u["team_id"] == team_id]
            recent = {e["user_id"] for e in seats.logins if e["date_last"] >= start}
            billing = dict(seats.billing)
        people = [u for u in users if not u.get("is_bot") and u["id"] != "USLACKBOT"]
        live = [u for u in people if not u.get("deleted")]
        single = [u for u in live if u.get("is_ultra_restricted")]
        multi = [u for u in live if u.get("is_restricted") and not u.get("is_ultra_restricted")]
        billable = [u for u in live if billing.get(u["id"])]
        return Truth(
            members=len(live) - len(single) - len(multi),
            multi_guests=len(multi),
            single_guests=len(single),
            deactivated=len(people) - len(live),
            billable=len(billable),
            idle=frozenset(u["id"] for u in billable if u["id"] not in recent),
            still_billed=sum(1 for u in people if u.get("deleted") and billing.get(u["id"])),
        )

    # --- what the dispatcher asks ----------------------------------------------------------------
    def token_scopes(self, token: str | None, ws) -> str:
        grant = self.user_grants.get(token or "")
        return ",".join(grant.scopes) if grant else ws.scopes

    def tier2_refusal(self, method: str, team_id: str | None) -> Response | None:
        """Over Tier 2 for this method and workspace: 429 `ratelimited` with Retry-After."""
        limit = self.tier2_per_minute
        if limit is None or method not in TIER2_METHODS or not team_id:
            return None
        now = time.monotonic()
        with self._lock:
            calls = [t for t in self._tier2.get((method, team_id), []) if now - t < 60.0]
            if len(calls) >= limit:
                self._tier2[(method, team_id)] = calls
                self.tier2_refused += 1
                wait = max(1, int(60.0 - (now - calls[0])) + 1)
                return JSONResponse(
                    {"ok": False, "error": "ratelimited"}, status_code=429, headers={"Retry-After": str(wait)}
                )
            calls.append(now)
            self._tier2[(method, team_id)] = calls
        return None

    def _scoped(self, ws, scope: str) -> bool:
        return scope in self.token_scopes(self.current_token, ws).split(",")

    def _admin_call(self, ws) -> Response | None:
        """Why a team.* admin method refuses this token, or None."""
        if self.current_token not in self.user_grants:
            return fail("not_allowed_token_type")
        if not self._scoped(ws, "admin"):
            return _missing("admin")
        return None

    # --- methods ---------------------------------------------------------------------------------
    def m_users_list(self, args, ws):
        if ws is not None and not self._scoped(ws, "users:read"):
            return _missing("users:read")
        ws, refusal = self._workspace_named(args, ws)
        if refusal is not None:
            return refusal
        team = ws.team_id if ws else None  # the token's workspace, or the one an org's token named
        with self._lock:
            members = [u for u in self.users.values() if team is None or _member(u, team)]
        if "limit" not in args and "cursor" not in args:
            return ok(members=members, response_metadata={"next_cursor": ""})
        try:
            limit = int(args.get("limit") or 0) or MAX_LIMIT
        except ValueError:
            return fail("invalid_limit")
        limit = min(limit, MAX_LIMIT)
        start = _offset(args.get("cursor"))
        if start is None:
            return fail("invalid_cursor")
        page = members[start : start + limit]
        more = start + limit < len(members)
        return ok(members=page, response_metadata={"next_cursor": _cursor(start + limit) if more else ""})

    def m_team_billableInfo(self, args, ws):
        if (refusal := self._admin_call(ws)) is not None:
            return refusal
        ws, refusal = self._workspace_named(args, ws)
        if refusal is not None:
            return refusal
        seats = self.seats_of(ws.team_id)
        with self._lock:
            ids = [u["id"] for u in self.users.values() if _member(u, ws.team_id) and not u.get("is_bot")]
            info = {i: {"billing_active": bool(seats.billing.get(i))} for i in ids}
        if args.get("user"):
            if args["user"] not in info:
                return fail("user_not_found")
            return ok(billable_info={args["user"]: info[args["user"]]})
        try:
            limit = min(int(args.get("limit") or 0) or MAX_LIMIT, MAX_LIMIT)
        except ValueError:
            return fail("invalid_limit")
        start = _offset(args.get("cursor"))
        if start is None:
            return fail("invalid_cursor")
        page = ids[start : start + limit]
        more = start + limit < len(ids)
        return ok(
            billable_info={i: info[i] for i in page},
            response_metadata={"next_cursor": _cursor(start + limit) if more else ""},
        )

    def m_team_accessLogs(self, args, ws):
        if (refusal := self._admin_call(ws)) is not None:
            return refusal
        ws, refusal = self._workspace_named(args, ws)
        if refusal is not None:
            return refusal
        seats = self.seats_of(ws.team_id)
        if seats.plan not in PAID_PLANS:
            return fail("paid_only")
        try:
            count = int(args.get("count") or 100)
            page = int(args.get("page") or 1)
            before = int(args["before"]) if args.get("before") not in (None, "", "now") else None
        except ValueError:
            return fail("invalid_arguments")
        if count > MAX_LIMIT or page > MAX_PAGES or count < 1 or page < 1:
            return fail("over_pagination_limit")
        with self._lock:
            logins = seats.logins if before is None else [e for e in seats.logins if e["date_last"] <= before]
            total = len(logins)
            chunk = [dict(e) for e in logins[(page - 1) * count : page * count]]
        pages = max(1, -(-total // count))
        return ok(logins=chunk, paging={"count": count, "total": total, "page": page, "pages": pages})

    def m_auth_revoke(self, args, ws):
        """The calling token is revoked (`test=true`: only says it would be)."""
        if str(args.get("test", "")).lower() not in ("1", "true"):
            self.revoke(self.current_token or "")
        return ok(revoked=True)

    def seats_oauth(self, args) -> Response | None:
        """oauth.v2.access for a user code (None: not one of ours, the bot install goes on)."""
        with self._lock:
            grant = self.user_codes.pop(args.get("code", ""), None)
        if grant is None:
            if args.get("grant_type") == "refresh_token":
                return self._refresh_user(args)
            return None
        token = self.grant_user_token(grant.team_id, grant.user_id, grant.scopes)
        ws = self.workspaces[grant.team_id]
        # an org-wide install (Enterprise Grid): `team` null, the org under `enterprise`, and
        # `is_enterprise_install` true (Slack's sample, api.slack.com/enterprise/apps/reference)
        org_wide = ws.team_id in self.org_installs
        return ok(
            app_id="A0QUOLUM",
            authed_user={
                "id": grant.user_id,
                "scope": ",".join(grant.scopes),
                "access_token": token,
                "token_type": "user",
            },
            team=None if org_wide else {"id": ws.team_id, "name": ws.name},
            enterprise={"id": ws.enterprise_id, "name": ws.name if org_wide else None}
            if ws.enterprise_id
            else None,
            is_enterprise_install=org_wide,
        )

    def _refresh_user(self, args) -> Response:
        with self._lock:
            old = next(
                (t for t, g in self.user_grants.items() if g.refresh_token == args.get("refresh_token")), None
            )
        if old is None:
            return fail("invalid_refresh_token")
        grant = self.user_grants[old]
        self.revoke(old)
        token = self.grant_user_token(grant.team_id, grant.user_id, grant.scopes, rotating=True)
        new = self.user_grants[token]
        return ok(
            authed_user={
                "id": grant.user_id,
                "scope": ",".join(grant.scopes),
                "access_token": token,
                "refresh_token": new.refresh_token,
                "expires_in": 43200,
                "token_type": "user",
            },
            team={"id": grant.team_id},
        )

    # --- the consent page ------------------------------------------------------------------------
    async def authorize(self, request: Request) -> Response:
        """Slack's OAuth v2 consent page for user scopes, approved at once by `consenting` (team, user):
        back to `redirect_uri` with a code; nobody consenting: `access_denied`."""
        query = request.query_params
        if query.get("client_id") != self.client_id or not query.get("redirect_uri"):
            return JSONResponse({"ok": False, "error": "invalid_client_id"}, status_code=400)
        state = query.get("state", "")
        if self.consenting is None:
            return RedirectResponse(
                f"{query['redirect_uri']}?{urlencode({'error': 'access_denied', 'state': state})}"
            )
        scopes = tuple(s for s in (query.get("user_scope") or "").split(",") if s)
        code = self.issue_user_code(*self.consenting, scopes=scopes)
        return RedirectResponse(
            f"{query['redirect_uri']}?{urlencode({'code': code, 'state': state})}", status_code=302
        )


def _missing(scope: str) -> Response:
    return JSONResponse({"ok": False, "error": "missing_scope", "needed": scope, "provided": ""})


def _member(user: dict, team_id: str) -> bool:
    return user["team_id"] == team_id or team_id in (user.get("enterprise_user") or {}).get("teams", ())
