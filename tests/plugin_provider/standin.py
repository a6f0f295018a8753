"""Seatly's stand-in: a tiny server bound to port 0. Tokens carry scopes; seats can be removed
(`DELETE /v1/seats/{id}`, needs `seats.write`) and restored (`POST /v1/seats/{id}/restore`); every
write is logged in `writes` so tests count provider calls."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "st_0123456789abcdefXYZ"
WRITE_TOKEN = "st_write0123456789abcXYZ"
PEOPLE = [("ana", True), ("bo", False), ("cy", True)]


class SeatlyStandIn:
    def __init__(self, people=PEOPLE, admins: set[str] = frozenset()) -> None:
        self.scopes = {TOKEN: ["seats.read"], WRITE_TOKEN: ["seats.read", "seats.write"]}
        self.tokens = {TOKEN, WRITE_TOKEN}
        self.requests: list[str] = []
        self.writes: list[tuple[str, str]] = []  # (method, seat id) of every write answered 2xx
        self.people = {name: active for name, active in people}
        self.removed: set[str] = set()
        self.admins = set(admins)
        self.app = Starlette(
            routes=[
                Route("/v1/me", self.me),
                Route("/v1/seats", self.seats),
                Route("/v1/seats/{id}", self.remove, methods=["DELETE"]),
                Route("/v1/seats/{id}/restore", self.restore, methods=["POST"]),
            ]
        )

    def _token(self, request: Request) -> str | None:
        self.requests.append(request.url.path)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return token if token in self.tokens else None

    async def me(self, request: Request) -> JSONResponse:
        if not (token := self._token(request)):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return JSONResponse({"id": "ws-7", "name": "Acme on Seatly", "scopes": self.scopes[token]})

    async def seats(self, request: Request) -> JSONResponse:
        if not self._token(request):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        seats = [
            {"id": n, "name": n.title(), "email": f"{n}@acme.example", "active": a, "admin": n in self.admins}
            for n, a in self.people.items()
            if n not in self.removed
        ]
        return JSONResponse({"seats": seats})

    async def _write(self, request: Request, method: str, present: bool) -> Response:
        if not (token := self._token(request)):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if "seats.write" not in self.scopes[token]:
            return JSONResponse({"error": "missing_scope", "needed": "seats.write"}, status_code=403)
        seat = request.path_params["id"]
        if seat not in self.people or (seat in self.removed) != present:
            return JSONResponse({"error": "not_found"}, status_code=404)
        if seat in self.admins:
            return JSONResponse({"error": "cannot_remove_admin"}, status_code=409)
        (self.removed.add if method == "DELETE" else self.removed.discard)(seat)
        self.writes.append((method, seat))
        return Response(status_code=204)

    async def remove(self, request: Request) -> Response:
        return await self._write(request, "DELETE", present=False)

    async def restore(self, request: Request) -> Response:
        return await self._write(request, "POST", present=True)
