"""The installed providers, and the `Registry` everything above providers/ iterates over.

A provider is installed by being a package under providers/ that exposes `SPEC` (its entry, a
`ProviderSpec`) and `Hooks` (a class built with the shared `ProviderHTTP` and the settings):
`discover()` finds them, so adding a provider touches no file outside its own package. Tests build a
`Registry` of their own with a provider that lives under tests/ (tests/plugin_provider/).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from types import ModuleType
from typing import Any

import httpx

from core.clock import utcnow
from core.config import Settings
from core.logs import register_pattern
from providers.http import ProviderHTTP
from providers.plugin import Hooks, ProviderSpec, Setting
from providers.ratelimit import Limiter, ProviderLimits


@dataclass(frozen=True)
class Installed:
    """One provider: its entry and its hooks' class (from its package)."""

    spec: ProviderSpec
    hooks: type

    @classmethod
    def of(cls, package: ModuleType) -> Installed:
        return cls(package.SPEC, package.Hooks)


@cache
def discover() -> tuple[Installed, ...]:
    """Every package under providers/ with a `SPEC` and `Hooks`, in name order (the card's order)."""
    import providers

    found = []
    for module in sorted(pkgutil.iter_modules(providers.__path__), key=lambda m: m.name):
        if module.ispkg:
            package = importlib.import_module(f"providers.{module.name}")
            if hasattr(package, "SPEC") and hasattr(package, "Hooks"):
                found.append(Installed.of(package))
    return tuple(found)


class Registry(Mapping[str, ProviderSpec]):
    """The providers this bot serves: key -> entry, in the card's order; `bind()` gives each its
    hooks for one process."""

    def __init__(self, installed: Iterable[Installed] | None = None) -> None:
        self._installed = {i.spec.key: i for i in (discover() if installed is None else installed)}
        self._names = _names_people_type(spec for spec in self.values())

    def __iter__(self) -> Iterator[str]:
        return iter(self._installed)

    def __len__(self) -> int:
        return len(self._installed)

    def __getitem__(self, key: str) -> ProviderSpec:
        return self._installed[key].spec

    def find(self, name: str | None) -> ProviderSpec | None:
        """The entry for a key as people type it (any case, spaces around), or None."""
        return self.get((name or "").strip().lower())

    def named(self, name: str | None) -> ProviderSpec | None:
        """The entry for what a person typed in a command: its key, its display name or one of the
        `aliases` its entry declares (any case, spaces around), or None."""
        key = self._names.get(_folded(name))
        return self[key] if key is not None else None

    def known(self) -> str:
        """Every provider as a command accepts it, for a sentence: "GitHub (`github`), Slack (`slack`,
        `slack_seats`)"."""
        return ", ".join(
            f"{spec.display_name} ({', '.join(f'`{n}`' for n in _typed(spec))})" for spec in self.values()
        )

    def oauth(self) -> list[ProviderSpec]:
        return [spec for spec in self.values() if spec.oauth is not None]

    def credential_forms(self) -> list[ProviderSpec]:
        return [spec for spec in self.values() if spec.form is not None]

    def names(self) -> dict[str, str]:
        return {spec.key: spec.display_name for spec in self.values()}

    def usage(self) -> str:
        """`hubspot|sendgrid`: the keys as a command's usage shows them."""
        return "|".join(self._installed)

    # --- what the operator configures ------------------------------------------------------------
    def settings(self) -> list[Setting]:
        return [setting for spec in self.values() for setting in spec.settings]

    def variables(self) -> list[str]:
        return [setting.name for setting in self.settings()]

    def variable_help(self) -> list[tuple[str, str]]:
        return [(setting.name, setting.description) for setting in self.settings()]

    def check_settings(self, settings: Settings) -> None:
        for spec in self.values():
            spec.check_settings(settings)

    def load_settings(self, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment with these providers' variables, each checked once (raises
        ConfigError with one sentence for the operator)."""
        settings = Settings.from_env(env, provider_variables=self.variables())
        self.check_settings(settings)
        return settings

    def limits(self) -> dict[str, ProviderLimits]:
        return {spec.key: spec.limits for spec in self.values()}

    def redact_credentials(self) -> None:
        """Every log line from now on hides the credential shapes the providers declare."""
        for spec in self.values():
            for pattern in spec.secret_patterns:
                register_pattern(pattern)

    # --- one process's hooks ---------------------------------------------------------------------
    def hooks(
        self,
        key: str,
        http: httpx.AsyncClient,
        settings: Settings,
        limiter: Limiter | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> Any:
        installed = self._installed[key]
        http_ = ProviderHTTP(http, installed.spec.policy, limiter=limiter)
        return installed.hooks(http_, settings, clock=clock)

    def bind(
        self,
        http: httpx.AsyncClient,
        settings: Settings,
        limiter: Limiter | None,
        clock: Callable[[], datetime] = utcnow,
    ) -> Bound:
        """Every provider's hooks on one HTTP client, limiter and clock (the injected one: a signed
        assertion's time, a deadline, are the clock's, never the machine's)."""
        hooks = {key: self.hooks(key, http, settings, limiter, clock) for key in self._installed}
        return Bound(self, hooks)


def _folded(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


def _typed(spec: ProviderSpec) -> list[str]:
    """The one-word names a command takes for `spec`: its aliases, then its key."""
    return list(dict.fromkeys([*(_folded(a) for a in spec.aliases), spec.key]))


def _names_people_type(specs: Iterable[ProviderSpec]) -> dict[str, str]:
    """Folded name -> key, for every key, display name and alias; a name two providers would answer
    to is a catalogue mistake (raises ValueError naming it) rather than a guess at run time."""
    names: dict[str, str] = {}
    for spec in specs:
        for name in {_folded(n) for n in (spec.key, spec.display_name, *spec.aliases)}:
            if names.setdefault(name, spec.key) != spec.key:
                raise ValueError(f"`{name}` names both {names[name]} and {spec.key}: rename one alias")
    return names


class Bound:
    """The registry with every provider's hooks built (one per process, by bot/container.py)."""

    def __init__(self, registry: Registry, hooks: dict[str, Any]) -> None:
        self.registry = registry
        self._hooks = hooks

    def __call__(self, key: str) -> Hooks:
        """The hooks of provider `key` (providers/plugin.py `Hooks`); KeyError when not installed."""
        return self._hooks[key]

    def override(self, key: str, hooks: Any) -> None:
        """Swap one provider's hooks (tests: a client that does not wait out backoffs)."""
        self._hooks[key] = hooks

    def items(self) -> list[tuple[ProviderSpec, Any]]:
        return [(self.registry[key], hooks) for key, hooks in self._hooks.items()]


INSTALLED = Registry()  # what this installation serves: every provider package found under providers/
