"""The threaded uvicorn server every stand-in and the tests' bot run on."""

import asyncio
import time

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sandbox.standins.server import ThreadedServer, _PromptServer


def app() -> Starlette:
    return Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])


def test_it_serves_then_stops():
    server = ThreadedServer(app()).start()
    assert httpx.get(server.url).text == "ok"
    server.stop()
    assert not server._thread.is_alive()


async def test_told_to_exit_its_loop_ends_at_once_not_at_the_next_tenth_of_a_second():
    """uvicorn looks at `should_exit` every 0.1 s, which every stop paid (a test stops up to four
    servers); `exit_soon` wakes the loop instead."""
    config = uvicorn.Config(app(), lifespan="off")
    config.load()
    server = _PromptServer(config)
    loop = asyncio.get_running_loop()
    running = asyncio.create_task(server.main_loop())
    await asyncio.sleep(0.02)  # into the loop's first wait
    told = time.perf_counter()
    server.exit_soon(loop)
    await running
    assert time.perf_counter() - told < 0.06
