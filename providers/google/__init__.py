"""Google Workspace: everything Quolum knows about it (the plug-in): `SPEC` its catalogue entry
(entry.py), `Hooks` what data cannot say (client.py: the JWT-bearer exchange with a service account's
key, checks, collection (usage.py), unassigning a licence (seats.py))."""

from providers.google.client import GoogleHooks as Hooks
from providers.google.entry import SPEC

__all__ = ["SPEC", "Hooks"]
