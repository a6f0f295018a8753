"""HubSpot: everything Quolum knows about it (the plug-in)."""
