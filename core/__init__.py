"""Core: configuration, clock, logging and metrics. Imports nothing of ours."""
