"""Quolum Bot: configuration, app factory, HTTP routes, scheduler and CLI."""
