"""SendGrid: everything Quolum knows about it (the plug-in): `SPEC` its catalogue entry (entry.py),
`Hooks` what data cannot say (client.py: verifying and checking a key, collection, failures)."""

from providers.sendgrid.client import SendGridClient as Hooks
from providers.sendgrid.entry import SPEC

__all__ = ["SPEC", "Hooks"]
