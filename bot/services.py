"""What handlers need, in one object built by the app factory (tests pass stand-ins)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bot.clock import Clock
from bot.config import Settings
from storage.store import Storage


@dataclass
class Services:
    settings: Settings
    storage: Storage
    clock: Clock
    http: httpx.AsyncClient  # shared by every provider call of this process
