"""Seatly: a provider that exists only under tests/, to prove a provider plugs in by its package alone
(tests/test_plugin_provider.py; docs/adding-a-provider.md walks through it).

A package under providers/ would be found by the registry; this one is handed to a test's registry.
"""

from tests.plugin_provider.entry import SPEC
from tests.plugin_provider.hooks import SeatlyHooks as Hooks

__all__ = ["SPEC", "Hooks"]
