"""Core: configuration, clock and logging. Imports nothing of ours."""
