"""Thin adapters for each Slack surface and browser page, plus pure Block Kit builders."""
