"""How a provider's stand-in joins the sandbox (the demo and the sandbox page) without the sandbox naming
it: a module `sandbox/standins/<name>_sandbox.py` holding `SANDBOX = Sandboxed(...)` is found by
`discover()`. The sandbox starts its stand-in on its clock, seeds it, points the bot at it, and plays
its credential form with the values `credentials` makes in the stand-in (a token, an app) — what a
person would create in the provider's console and paste. HubSpot (OAuth) and SendGrid, the first two,
are still wired by hand in environment.py and workspace.py.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SUFFIX = "_sandbox"


@dataclass(frozen=True)
class Sandboxed:
    key: str  # the provider's key in the registry
    make: Callable[[Callable[[], datetime]], Any] | None  # clock -> the stand-in (`.app`; `.url` set later)
    seed: Callable[[Any, datetime], None]  # (stand-in, now) -> None: the demo's account in it
    settings: Callable[[Any], dict[str, str]]  # stand-in (its url set) -> the bot's provider settings
    credentials: Callable[[Any], dict[str, str]]  # stand-in -> form field -> value that connects
    paid_seats: Callable[[Any, datetime], int]  # (stand-in, period start) -> paid seats, from the seed
    labels: dict[str, str]  # form field -> how the sandbox page's sidebar names the value
    # its stand-in is the sandbox's one Slack stand-in (a provider reading the Slack workspace itself):
    # `make` is not called, nothing more is started; `seed` and `settings` get that stand-in
    on_slack: bool = False


def discover() -> list[Sandboxed]:
    """Every `*_sandbox` module's SANDBOX, by provider key."""
    import sandbox.standins as package

    found = []
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.endswith(SUFFIX):
            found.append(importlib.import_module(f"{package.__name__}.{module.name}").SANDBOX)
    return sorted(found, key=lambda s: s.key)


def sidebar(sandboxed: dict[str, Sandboxed], standins: dict[str, Any]) -> list[dict]:
    """What the sandbox page lists to paste into each Connect form: made in the stand-ins now."""
    return [
        {"id": f"{key}-{name}", "label": entry.labels.get(name, name), "key": value}
        for key, entry in sandboxed.items()
        for name, value in entry.credentials(standins[key]).items()
    ]
