"""GitHub: everything Quolum knows about it (the plug-in): `SPEC` its catalogue entry (entry.py),
`Hooks` what data cannot say (client.py: verifying and checking a token, collection (usage.py),
failures, cancelling a Copilot seat (seats.py))."""

from providers.github.client import GitHubClient as Hooks
from providers.github.entry import SPEC

__all__ = ["SPEC", "Hooks"]
