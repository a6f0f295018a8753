"""The Slack workspace's own seats: everything Quolum knows about them (the plug-in): `SPEC` its
catalogue entry (entry.py), `Hooks` what data cannot say (client.py: connecting with the bot token,
*Connect Slack billing*, checks, collection (usage.py), deactivation through SCIM (scim.py))."""

from providers.slack_seats.client import SlackSeatsHooks as Hooks
from providers.slack_seats.entry import SPEC

__all__ = ["SPEC", "Hooks"]
