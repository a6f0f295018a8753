"""A heartbeat for a lease: renew it every `interval` seconds while the work inside runs.

`async with heartbeat(renew, interval) as beat:` starts a task calling `renew()` (a fenced write that
answers False once the claim is lost); the task stops when the block ends, or at the first False
(`beat.lost` is then set). Written here (a dozen lines) because no library we use renews a database
lease: the work inside checks the claim again, fenced, before it does anything irreversible.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("quolum.leases")


@dataclass
class Beat:
    renewals: int = 0
    lost: bool = False


@contextlib.asynccontextmanager
async def heartbeat(renew: Callable[[], Awaitable[bool]], interval: float) -> AsyncIterator[Beat]:
    beat = Beat()

    async def beating() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                held = await renew()
            except Exception:  # a database hiccup: the next beat tries again before the lease lapses
                log.warning("renewing a lease failed; trying again in %.0f s", interval, exc_info=True)
                continue
            if not held:
                beat.lost = True
                return
            beat.renewals += 1

    task = asyncio.create_task(beating())
    try:
        yield beat
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
