"""Servers in child processes, stopped whatever happens, and Ctrl-C/SIGTERM handling for the runner."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from harness import ROOT
from harness.machine import process_cpu_seconds

STARTUP_TIMEOUT = 60.0


class BenchmarkError(Exception):
    """The benchmark could not run (a server did not start, the set-up failed)."""


class Server:
    """A server in a child process, listening on 127.0.0.1:port; stopped by stop() whatever happens."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        # A session of its own: Ctrl-C reaches only this script, which then stops the server in order.
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise BenchmarkError(
                        f"{self.name} exited with status {self.proc.returncode} before it was ready:\n"
                        + self.log_tail()
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                time.sleep(0.1)
        raise BenchmarkError(
            f"{self.name} did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            self._log.flush()
            text = self.log_path.read_text(errors="replace").splitlines()
            return "\n".join("    " + line for line in text[-lines:])
        return ""

    def cpu_seconds(self) -> float | None:
        return process_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # uvicorn's graceful shutdown
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


def server_env(base: dict[str, str], **overrides: str) -> dict[str, str]:
    """The parent's environment without any bot setting, plus the benchmark's."""
    prefixes = ("SLACK_", "QUOLUM_", "HUBSPOT_", "SENDGRID_")
    env = {k: v for k, v in base.items() if not k.startswith(prefixes) and k not in ("HOST", "PORT")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH", "")) if p)
    env.update(overrides)
    return env


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def install_stop_signals() -> None:
    """SIGTERM and SIGHUP stop the benchmark as Ctrl-C does: servers stopped, temporary files removed."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_interrupt)


def run_async(coro):
    """asyncio.run, with SIGTERM/SIGHUP cancelling the work (as asyncio.run does for Ctrl-C) rather than
    raising inside whichever task happens to run; either way it ends in KeyboardInterrupt."""

    async def main():
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        stopped = []

        def stop() -> None:
            stopped.append(True)
            task.cancel()

        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop)
        try:
            return await coro
        except asyncio.CancelledError:
            if stopped:
                raise KeyboardInterrupt from None
            raise
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
            install_stop_signals()  # the loop's removal restored the default (fatal) disposition

    return asyncio.run(main())
