"""HubSpot: everything Quolum knows about it (the plug-in): `SPEC` its catalogue entry (entry.py),
`Hooks` what data cannot say (client.py: OAuth, the access check, collection, failures)."""

from providers.hubspot.client import HubSpotClient as Hooks
from providers.hubspot.entry import SPEC

__all__ = ["SPEC", "Hooks"]
