"""SendGrid: everything Quolum knows about it (the plug-in)."""
