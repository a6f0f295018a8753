"""The catalogue: the installed providers' entries by key (providers/registry.py `INSTALLED`).

Kept for the modules that look an entry up by key (`CATALOGUE[key]`, `find(name)`); new code is given
a `Registry` by bot/container.py instead.
"""

from __future__ import annotations

from providers.plugin import ProviderSpec, Scope
from providers.registry import INSTALLED

__all__ = ["CATALOGUE", "ProviderSpec", "Scope", "find"]

CATALOGUE = INSTALLED


def find(name: str | None) -> ProviderSpec | None:
    return CATALOGUE.find(name)
