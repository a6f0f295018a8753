"""The demo's vocabulary: what steps share (`Story`), a `Step`, and how a step acts and looks as a person
would (type a command, read the buttons and fields of what Slack showed, find the DMs someone got).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.clock import StepFailed
from sandbox.environment import SandboxEnv
from sandbox.workspace import Person


@dataclass
class Shown:
    where: str  # e.g. "/quolum connect · only visible to you (Ada)"
    message: dict  # a Slack message or view: text, blocks, title…


@dataclass
class StepOutcome:
    title: str
    ok: bool
    seconds: float
    failure: str = ""


@dataclass
class Story:
    """What the steps share: the sandbox, what Slack showed, and facts for later steps."""

    env: SandboxEnv
    shown: list[Shown] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    outcomes: list[StepOutcome] = field(default_factory=list)

    def show(self, where: str, message: dict) -> dict:
        self.shown.append(Shown(where, message))
        return message


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[Story], None]


def expect(condition: object, failure: str) -> None:
    if not condition:
        raise StepFailed(failure)


def buttons(message: dict) -> dict[str, dict]:
    """action_id -> element of every button and overflow in a message or view."""
    out = {}
    for block in message.get("blocks") or []:
        elements = block.get("elements", []) if block.get("type") == "actions" else []
        if block.get("accessory"):
            elements = [*elements, block["accessory"]]
        for element in elements:
            if element.get("action_id"):
                out[element["action_id"]] = element
    return out


def label(element: dict) -> str:
    return (element.get("text") or {}).get("text", "")


def slash(story: Story, person: Person, text: str) -> dict:
    """Type `/quolum text` as `person`; the answer Slack shows (in the HTTP reply or via response_url)."""
    response, hook = story.env.command(person, text)
    expect(response.status_code == 200, f"Slack would say the command failed ({response.status_code})")
    json_reply = response.headers.get("content-type", "").startswith("application/json")
    reply = (response.json() if json_reply else {"text": response.text}) if response.content else {}
    if not reply.get("text") and not reply.get("blocks"):
        reply = story.env.response(hook)
    return story.show(f"/quolum {text} · only visible to {person.name}", reply)


def dms_to(story: Story, person: Person, mark: int) -> list[dict]:
    channels = {person.user_id, "D" + person.user_id[1:]}
    return [
        c.args for c in story.env.calls_after("chat.postMessage", mark) if c.args.get("channel") in channels
    ]


def fields(message: dict) -> dict[str, str]:
    """ "Label: value" pairs of every section's fields, as mrkdwn text."""
    out = {}
    for block in message.get("blocks") or []:
        for item in block.get("fields") or []:
            head, _, value = item.get("text", "").partition("\n")
            out[head.strip("* ")] = value.strip()
    return out


def sections(message: dict) -> dict[str, dict[str, str]]:
    """A digest's fields per provider: {"HubSpot": {"Paid seats": "10", ...}, ...} (each provider's part
    starts with a section "*Provider* · account")."""
    out: dict[str, dict[str, str]] = {}
    current = ""
    for block in message.get("blocks") or []:
        head = ((block.get("text") or {}).get("text") or "").split("\n", 1)[0]
        if head.startswith("*") and "* · " in head:
            current = head[1:].split("* · ", 1)[0]
        for item in block.get("fields") or []:
            label, _, value = item.get("text", "").partition("\n")
            out.setdefault(current, {})[label.strip("* ")] = value.strip()
    return out
