"""The `/quolum` command table and its dispatcher.

A command is a name (plus aliases), a usage line for help, and an async
handler `(CommandRequest) -> dict` returning a message. The dispatcher matches
the longest name first ("admins add" before "admins") and falls back to help.
Later features register their commands in `COMMANDS` through `command(...)`.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from messages import blocks
from services.slack_roles import Workspace


@dataclass(frozen=True)
class CommandRequest:
    team_id: str
    enterprise_id: str | None
    user_id: str
    channel_id: str | None
    args: str
    response_url: str | None
    trigger_id: str | None
    services: object = field(repr=False, default=None)
    client: object = field(repr=False, default=None)
    org_wide: bool = False  # an org-wide (Enterprise Grid) install

    @property
    def workspace(self) -> Workspace:
        return Workspace(self.team_id, self.enterprise_id, self.org_wide)


Handler = Callable[[CommandRequest], Awaitable[dict]]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    description: str
    handler: Handler | None  # None: a slot a later feature fills; not listed in help
    aliases: tuple[str, ...] = ()
    # True when the handler only reads our database (fast): its reply is the HTTP ack itself.
    # False when it calls Slack or a provider: we ack at once and answer through response_url.
    reply_in_ack: bool = True


COMMANDS: dict[str, Command] = {}


def command(name: str, usage: str, description: str, *, aliases: tuple[str, ...] = (), reply_in_ack=True):
    def register(handler: Handler) -> Handler:
        cmd = Command(name, usage, description, handler, aliases, reply_in_ack)
        for key in (name, *aliases):
            COMMANDS[key] = cmd
        return handler

    return register


def slot(name: str) -> None:
    """Reserve a name for a feature not built yet, so it is not mistaken for a typo."""
    COMMANDS.setdefault(name, Command(name, name, "", None))


def parse(text: str) -> tuple[Command | None, str]:
    """Return (command, remaining args). Longest name wins; None for empty or unknown input."""
    words = (text or "").strip().split()
    lowered = [w.lower() for w in words]
    for size in range(min(len(words), 3), 0, -1):
        key = " ".join(lowered[:size])
        if key in COMMANDS:
            return COMMANDS[key], " ".join(words[size:])
    return None, " ".join(words)


def help_entries() -> list[tuple[str, str]]:
    seen, entries = set(), []
    for cmd in COMMANDS.values():
        if cmd.handler is not None and cmd.description and cmd.name not in seen:
            seen.add(cmd.name)
            entries.append((cmd.usage, cmd.description))
    return entries


NOT_YET = "`/quolum {name}` is not available in this version of Quolum Bot yet."


@command("help", "help", "show this message", aliases=("?",))
async def help_command(request: CommandRequest) -> dict:
    return copy.deepcopy(_help(tuple(help_entries())))


@functools.lru_cache(maxsize=4)
def _help(entries: tuple[tuple[str, str], ...]) -> dict:
    # The table is fixed once the handlers are imported; build the message once, hand out copies.
    return blocks.help_message(entries)


for _name in ("connect", "status", "invite", "disconnect"):
    slot(_name)


async def run(text: str, request: CommandRequest) -> tuple[Command | None, dict]:
    """Dispatch `text`; returns (command or None, reply message)."""
    cmd, args = parse(text)
    if cmd is None:
        stripped = (text or "").strip()
        return None, blocks.help_message(help_entries(), not_understood=stripped or None)
    if cmd.handler is None:
        return cmd, blocks.message(NOT_YET.format(name=cmd.name))
    return cmd, await cmd.handler(replace(request, args=args))
