"""Seatly's stand-in: a tiny server bound to port 0 that knows one token, until it is revoked."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "st_0123456789abcdefXYZ"


class SeatlyStandIn:
    def __init__(self) -> None:
        self.tokens = {TOKEN}
        self.requests: list[str] = []
        self.app = Starlette(routes=[Route("/v1/me", self.me), Route("/v1/seats", self.seats)])

    def _allowed(self, request: Request) -> bool:
        self.requests.append(request.url.path)
        return request.headers.get("Authorization", "").removeprefix("Bearer ") in self.tokens

    async def me(self, request: Request) -> JSONResponse:
        if not self._allowed(request):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return JSONResponse({"id": "ws-7", "name": "Acme on Seatly", "scopes": ["seats.read"]})

    async def seats(self, request: Request) -> JSONResponse:
        if not self._allowed(request):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        people = [("ana", True), ("bo", False), ("cy", True)]
        return JSONResponse(
            {
                "seats": [
                    {"id": n, "name": n.title(), "email": f"{n}@acme.example", "active": a} for n, a in people
                ]
            }
        )
