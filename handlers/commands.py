"""The `/quolum` command table and its dispatcher.

A command is a name (plus aliases), a usage line for help, and an async
handler `(CommandRequest) -> dict` returning a message. The dispatcher matches
the longest name first ("digest subscribe" before "digest") and falls back to help.
Features register their commands in `COMMANDS` through `command(...)`.

Who may run a command is said once, in the table: `admins_only=` names what a member may not do
("post digests") and, for a command that also reads, which arguments ask for a change; the
dispatcher refuses a member with ADMINS_ONLY before the handler runs (`slack_admins_only=True`: only
Slack's owners and admins, SLACK_ADMINS_ONLY). Buttons that change something check the same
predicate (`clicked_by_admin`, `ConnectionsService.can_connect`) and refuse with the same sentence.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from handlers import slack_request
from messages import blocks
from providers.registry import Registry
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
# (the command's arguments, the installed providers) -> they ask for what only admins may do
Changes = Callable[[str, Registry], bool]

PROVIDERS = "{providers}"  # in a usage line: the installed providers' keys, `hubspot|sendgrid`
ADMINS_ONLY = "Only Slack admins and Quolum admins can {what}."
SLACK_ADMINS_ONLY = "Only Slack workspace owners and admins can {what}."


def always(args: str, registry: Registry) -> bool:
    return True


def never(args: str, registry: Registry) -> bool:
    return False


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    description: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    # True when the handler only reads our database (fast): its reply is the HTTP ack itself.
    # False when it calls Slack or a provider: we ack at once and answer through response_url.
    reply_in_ack: bool = True
    what: str = ""  # what only admins may do, for the refusal: "post digests"
    admins_only: Changes = never  # which arguments need an admin (a usage mistake is answered to anyone)
    slack_admins_only: bool = False  # Slack's owners and admins only: Quolum admins are refused too

    def refusal(self) -> str:
        return (SLACK_ADMINS_ONLY if self.slack_admins_only else ADMINS_ONLY).format(what=self.what)


COMMANDS: dict[str, Command] = {}


def command(
    name: str,
    usage: str,
    description: str,
    *,
    aliases: tuple[str, ...] = (),
    reply_in_ack=True,
    admins_only: bool | Changes = False,
    what: str = "",
    slack_admins_only: bool = False,
):
    """Register a command. `admins_only=True` (or a predicate on its arguments) with `what`: a member is
    refused with `ADMINS_ONLY.format(what=what)` and the handler does not run."""
    changes = admins_only if callable(admins_only) else (always if admins_only else never)
    if changes is not never and not what:
        raise ValueError(f"/quolum {name}: an admins-only command says what members may not do")

    def register(handler: Handler) -> Handler:
        cmd = Command(
            name, usage, description, handler, aliases, reply_in_ack, what, changes, slack_admins_only
        )
        for key in (name, *aliases):
            COMMANDS[key] = cmd
        return handler

    return register


def parse(text: str) -> tuple[Command | None, str]:
    """Return (command, remaining args). Longest name wins; None for empty or unknown input."""
    words = (text or "").strip().split()
    lowered = [w.lower() for w in words]
    for size in range(min(len(words), 3), 0, -1):
        key = " ".join(lowered[:size])
        if key in COMMANDS:
            return COMMANDS[key], " ".join(words[size:])
    return None, " ".join(words)


def help_entries(registry: Registry) -> list[tuple[str, str]]:
    """(usage, description) of each command; `{providers}` in a usage reads `hubspot|sendgrid|…`."""
    seen, entries = set(), []
    for cmd in COMMANDS.values():
        if cmd.description and cmd.name not in seen:
            seen.add(cmd.name)
            entries.append((cmd.usage.replace(PROVIDERS, registry.usage()), cmd.description))
    return entries


@command("help", "help", "show this message", aliases=("?",))
async def help_command(request: CommandRequest) -> dict:
    return copy.deepcopy(_help(tuple(help_entries(request.services.registry))))


@functools.lru_cache(maxsize=4)
def _help(entries: tuple[tuple[str, str], ...]) -> dict:
    # The table is fixed once the handlers are imported (and the providers once the app is built): build
    # the message once, hand out copies.
    return blocks.help_message(entries)


async def run(text: str, request: CommandRequest) -> tuple[Command | None, dict]:
    """Dispatch `text`; returns (command or None, reply message)."""
    cmd, args = parse(text)
    if cmd is None:
        stripped = (text or "").strip()
        return None, blocks.help_message(
            help_entries(request.services.registry), not_understood=stripped or None
        )
    return cmd, await call(cmd, replace(request, args=args))


async def call(cmd: Command, request: CommandRequest) -> dict:
    """Run the command's handler, unless it asks for what only admins may do and the person is not one."""
    if cmd.admins_only(request.args, request.services.registry) and not await allowed(cmd, request):
        return blocks.message(cmd.refusal())
    return await cmd.handler(request)


async def clicked_by_admin(connections, client, body: dict) -> bool:
    """The person who clicked a button may change things: what `admins_only` commands ask of them too."""
    return await connections.can_connect(client, slack_request.workspace_of(body), body["user"]["id"])


async def allowed(cmd: Command, request: CommandRequest) -> bool:
    connections = request.services.connections
    if cmd.slack_admins_only:
        return await connections.is_slack_admin(request.client, request.workspace, request.user_id)
    return await connections.can_connect(request.client, request.workspace, request.user_id)
