"""The shared provider client (httpx over aiohttp) against a real local server, and `parsed()`."""

from __future__ import annotations

import asyncio
import gzip

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from providers.http import parsed
from providers.http_client import provider_client
from sandbox.standins.server import serve_in_thread

BIG = bytes(range(256)) * 4096  # 1 MiB: many socket reads


async def set_cookie(request: Request) -> Response:
    response = JSONResponse({"ok": True})
    response.set_cookie("tenant", "portal-101", path="/")  # as a load balancer might, per answer
    return response


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {"cookie": request.headers.get("cookie"), "body": len(body), "query": str(request.query_params)}
    )


async def big(request: Request) -> Response:
    return Response(BIG, media_type="application/octet-stream", headers={"X-Kind": "big"})


async def gzipped(request: Request) -> Response:
    return Response(gzip.compress(b'{"results": []}'), headers={"Content-Encoding": "gzip"})


async def stalls(request: Request) -> Response:
    async def body():
        yield b'{"results": ['
        await asyncio.sleep(2.0)  # headers sent, body stalls
        yield b"]}"

    return StreamingResponse(body(), media_type="application/json")


async def teapot(request: Request) -> Response:
    return Response(b"no", status_code=418)


APP = Starlette(
    routes=[
        Route("/set", set_cookie),
        Route("/echo", echo, methods=["GET", "POST"]),
        Route("/big", big),
        Route("/gzip", gzipped),
        Route("/stalls", stalls),
        Route("/teapot", teapot),
    ]
)


@pytest.fixture(scope="module")
def url():
    with serve_in_thread(APP) as server:
        yield server.url


async def test_a_cookie_one_answer_sets_is_not_sent_with_later_requests(url):
    url = url.replace("127.0.0.1", "localhost")  # aiohttp's own jar ignores cookies of IP addresses
    async with httpx.AsyncClient() as stock:  # the server's cookie is a real one: httpx keeps it
        await stock.get(f"{url}/set")
        assert (await stock.get(f"{url}/echo")).json()["cookie"] == "tenant=portal-101"

    async with provider_client() as client:
        await client.get(f"{url}/set")
        assert (await client.get(f"{url}/echo")).json()["cookie"] is None
        assert not client.cookies


async def test_cookies_a_caller_gives_are_still_sent(url):
    async with provider_client(cookies={"chosen": "1"}) as client:
        assert (await client.get(f"{url}/echo")).json()["cookie"] == "chosen=1"
        client.cookies = {"other": "2"}
        await client.get(f"{url}/set")
        assert (await client.get(f"{url}/echo")).json()["cookie"] == "other=2"


async def test_answers_arrive_whole_and_as_httpx_reads_them(url):
    async with provider_client() as client:
        response = await client.get(f"{url}/big")
        assert response.content == BIG
        assert response.headers["x-kind"] == "big"
        assert response.elapsed.total_seconds() >= 0  # the stream was closed, as httpx closes it
        assert (await client.get(f"{url}/gzip")).json() == {"results": []}  # httpx decodes gzip
        refused = await client.get(f"{url}/teapot")
        assert (refused.status_code, refused.reason_phrase, refused.content) == (418, "I'm a Teapot", b"no")


async def test_request_bodies_sent_whole_or_streamed(url):
    async def chunks():
        yield b"ab"
        yield b"cd"

    async with provider_client() as client:
        assert (await client.post(f"{url}/echo", content=b"x" * 5000)).json()["body"] == 5000
        assert (await client.post(f"{url}/echo", content=chunks())).json()["body"] == 4


async def test_a_body_that_stalls_past_the_read_timeout_is_httpxs_read_timeout(url):
    async with provider_client(timeout=httpx.Timeout(5.0, read=0.3)) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"{url}/stalls")
        assert (await client.get(f"{url}/echo")).status_code == 200  # the pool still works


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 100},
        {"limit": 100, "after": "MTAw=="},
        {"archived": "true", "limit": 500, "q": "a b&c/é"},
        [("id", 1), ("id", 2)],
        {"after": None},
    ],
)
async def test_params_go_into_the_url_as_httpx_would_put_them(params):
    base = "https://api.hubapi.com/settings/v3/users/"
    url, rest = parsed(base, params)
    async with httpx.AsyncClient() as client:
        assert url == client.build_request("GET", base, params=params).url
    assert rest is None


def test_a_url_is_parsed_once_and_a_query_keeps_httpxs_merge():
    search = "https://api.hubapi.com/crm/v3/objects/contacts/search"
    first, _ = parsed(search, None)
    assert isinstance(first, httpx.URL) and first is parsed(search, None)[0]
    with_query = "https://api.sendgrid.com/v3/stats?aggregated_by=day"
    assert parsed(with_query, {"limit": 5}) == (with_query, {"limit": 5})
    given = httpx.URL(search)
    assert parsed(given, {"a": 1}) == (given, {"a": 1})


async def test_a_relative_url_with_params_still_joins_the_clients_base_url():
    async with httpx.AsyncClient(base_url="https://api.sendgrid.com/v3/") as client:
        url, rest = parsed("stats", {"start_date": "2026-11-01", "limit": 5})
        assert (
            client.build_request("GET", url).url
            == client.build_request("GET", "stats", params={"start_date": "2026-11-01", "limit": 5}).url
        )
        assert rest is None


async def test_a_proxy_goes_through_the_same_transport_with_the_proxy_set():
    from providers.http_client import WholeBodyTransport

    async with provider_client(proxy="http://user:secret@127.0.0.1:3128") as client:
        transports = [t for t in client._mounts.values() if t is not None]
        assert transports and all(isinstance(t, WholeBodyTransport) for t in transports)
        assert {str(t.proxy.url) for t in transports} == {"http://127.0.0.1:3128"}
        assert {t.proxy.auth for t in transports} == {("user", "secret")}
