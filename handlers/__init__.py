"""Thin adapters: Slack listeners, browser routes, scheduled-job entry points (parse, call one service, answer)."""
