"""Zoom: everything Quolum knows about it (the plug-in): `SPEC` its catalogue entry (entry.py), `Hooks`
what data cannot say (client.py: the Server-to-Server OAuth exchange, checks, seat actions)."""

from providers.zoom.client import ZoomHooks as Hooks
from providers.zoom.entry import SPEC

__all__ = ["SPEC", "Hooks"]
