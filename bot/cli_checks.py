"""Checks of command-line arguments made before a command does any work: each raises ConfigError with the
sentence the operator sees (exit status 2), so a mistake costs nothing (no story played, no database opened).
"""

from __future__ import annotations

import errno
import socket
from importlib.metadata import PackageNotFoundError, version

from core.config import ConfigError
from core.periods import zone


def package_version() -> str:
    try:
        return version("quolum-bot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def check_port_free(port: int, host: str = "127.0.0.1") -> None:
    """`--port` is a port number nobody listens on at `host` (0: any free port, always fine).

    The socket is bound as the server will bind it (SO_REUSEADDR) and closed at once: a port taken in
    the moment between this check and the server's start still fails there, but not after minutes of work.
    """
    if not 0 <= port < 65536:
        raise ConfigError(f"--port must be a number between 1 and 65535 (or 0 for any), not {port}.")
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            why = "in use" if error.errno == errno.EADDRINUSE else error.strerror or type(error).__name__
            raise ConfigError(
                f"--port {port} cannot be used on {host} ({why}): pick another, or leave --port out for any "
                "free port."
            ) from None


def check_timezone(option: str, name: str) -> None:
    """`name` is an IANA time zone (ZoneInfo raises three different errors for the ways it is not)."""
    try:
        zone(name)
    except ValueError:
        raise ConfigError(
            f"{option} must be a time zone such as Europe/Paris or UTC, not {name[:80]!r}."
        ) from None
