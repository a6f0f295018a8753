"""Collect usage reports for many connections with bounded concurrency and bounded memory.

`collect_many(jobs, concurrency=N, on_report=..., on_error=...)` starts N workers that pull
`CollectJob`s from one (sync or async) iterator, so at most N jobs are in flight and the jobs
themselves can be produced lazily (e.g. streamed from the database). Each report is handed to
`on_report` as soon as it is ready and then dropped: nothing grows with the number of connections.
One job failing (any `Exception`, or the per-job `job_timeout`) goes to `on_error` and the others carry
on. Callbacks may be plain functions or coroutine functions; an exception raised by `on_report` is
passed to `on_error`; one raised by `on_error`, `on_progress` or the job source itself stops the
whole run (the jobs in flight are cancelled) and is raised by `collect_many`.

Rate limits are per provider account and enforced by the shared `Limiter` inside `ProviderHTTP`,
so concurrency here only bounds how many connections are worked on at once.

`run_all(*awaitables)` is `asyncio.gather` with structured cancellation: if one fails, the others
are cancelled (no orphan requests) and the first error is raised as itself.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Sized,
)
from dataclasses import dataclass
from typing import Any

from core.reports import UsageReport


@dataclass(frozen=True)
class CollectJob:
    """One connection to collect. `run` does the work when called (not before)."""

    key: str  # identifies the job in callbacks and logs (no secrets), e.g. "T0123/hubspot/101"
    run: Callable[[], Awaitable[UsageReport]]


@dataclass(frozen=True)
class CollectSummary:
    done: int
    reported: int
    failed: int


OnReport = Callable[[CollectJob, UsageReport], Any]
OnError = Callable[[CollectJob, BaseException], Any]
OnProgress = Callable[[int, "int | None"], Any]


async def run_all(*awaitables: Coroutine[Any, Any, Any]) -> list[Any]:
    """Run concurrently; return the results in order. On a failure cancel the rest, raise the first error."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(a) for a in awaitables]
    except BaseExceptionGroup as grouped:
        raise _first(grouped) from None
    return [task.result() for task in tasks]


def _first(grouped: BaseExceptionGroup) -> BaseException:
    error: BaseException = grouped
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


class _Source:
    """Hands out jobs one at a time to concurrent workers, from a sync or async iterable."""

    def __init__(self, jobs: Iterable[CollectJob] | AsyncIterable[CollectJob]) -> None:
        self._async: AsyncIterator[CollectJob] | None = None
        self._sync: Iterator[CollectJob] | None = None
        if isinstance(jobs, AsyncIterable):
            self._async = aiter(jobs)
        else:
            self._sync = iter(jobs)
        self._lock = asyncio.Lock()  # an async generator cannot be advanced by two tasks at once
        self._exhausted = False

    async def next(self) -> CollectJob | None:
        if self._exhausted:
            return None
        if self._sync is not None:
            job = next(self._sync, None)
        else:
            async with self._lock:
                if self._exhausted:
                    return None
                job = await anext(self._async, None)
        if job is None:
            self._exhausted = True
        return job


async def _call(callback: Callable[..., Any] | None, *args: Any) -> None:
    if callback is None:
        return
    result = callback(*args)
    if inspect.isawaitable(result):
        await result


async def collect_many(
    jobs: Iterable[CollectJob] | AsyncIterable[CollectJob],
    *,
    concurrency: int,
    on_report: OnReport,
    on_error: OnError,
    on_progress: OnProgress | None = None,
    total: int | None = None,
    job_timeout: float | None = None,
) -> CollectSummary:
    """Run `jobs` with at most `concurrency` at a time; see the module docstring.

    `on_progress(done, total)` is called after each job; `total` is `len(jobs)` when `jobs` has a
    length, else the `total` given (or None). `job_timeout` bounds each job, in seconds.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if total is None and isinstance(jobs, Sized):
        total = len(jobs)
    source = _Source(jobs)
    done = reported = failed = 0

    async def worker() -> None:
        nonlocal done, reported, failed
        while (job := await source.next()) is not None:
            try:
                async with asyncio.timeout(job_timeout):
                    report = await job.run()
                await _call(on_report, job, report)
                reported += 1
            except Exception as error:  # noqa: BLE001 - one connection must not stop the others
                failed += 1
                await _call(on_error, job, error)
            finally:
                report = None  # noqa: F841 - drop it before waiting for the next job
            done += 1
            await _call(on_progress, done, total)

    await run_all(*(worker() for _ in range(concurrency)))
    return CollectSummary(done=done, reported=reported, failed=failed)
