"""Configuration from the environment, checked once at start-up.

Every variable the bot reads is listed in `VARIABLES` (the README's table is
written from the same list) and parsed into one frozen `Settings` object that
is passed down explicitly: nothing else reads `os.environ`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A configuration that cannot work; the message is one sentence for the operator."""


# the bot's own settings a provider may read by name (`Settings.value`): variable -> Settings field
SHARED = {
    "SLACK_CLIENT_ID": "client_id",
    "SLACK_CLIENT_SECRET": "client_secret",
    "SLACK_API_URL": "slack_api_url",
}

# name -> (default, description). Order is the README's order.
VARIABLES: dict[str, tuple[str | None, str]] = {
    "SLACK_SIGNING_SECRET": (None, "Signing secret of the Slack app (required for HTTP mode)."),
    "SLACK_CLIENT_ID": (None, "Multi-workspace mode: the Slack app's client id."),
    "SLACK_CLIENT_SECRET": (None, "Multi-workspace mode: the Slack app's client secret."),
    "SLACK_BOT_TOKEN": (None, "Single-workspace mode: the bot token (xoxb-...)."),
    "SLACK_APP_TOKEN": (None, "Socket Mode: an app-level token (xapp-...) with connections:write."),
    "SLACK_API_URL": ("https://slack.com/api/", "Base URL of every Slack Web API call."),
    "QUOLUM_PUBLIC_URL": ("http://localhost:3000", "Public https URL of this bot (links, OAuth redirects)."),
    "QUOLUM_DATA_DIR": ("./data", "Directory for the SQLite database and the generated encryption key."),
    "QUOLUM_DATABASE_URL": (
        None,
        "SQLAlchemy URL; default sqlite in QUOLUM_DATA_DIR. PostgreSQL: postgresql://...",
    ),
    "QUOLUM_ENCRYPTION_KEYS": (None, "Comma-separated Fernet keys; the first encrypts, all decrypt."),
    "QUOLUM_LOG_LEVEL": ("INFO", "Log level (DEBUG, INFO, WARNING, ERROR)."),
    "QUOLUM_SCHEDULER": ("1", "0 disables background jobs in this process."),
    "QUOLUM_INVITES_PER_DAY": ("10", "How many invitations one member may send in 24 hours."),
    "QUOLUM_DIGEST_LEASE_SECONDS": (
        "600",
        "How long a replica holds a digest delivery it claimed; an unfinished one is retried after.",
    ),
    "QUOLUM_DIGEST_CONCURRENCY": (
        "32",
        "Digests one process builds and posts at once; keep it near the database pool (20 on PostgreSQL).",
    ),
    "QUOLUM_METRICS_TOKEN": (None, "If set, GET /metrics needs `Authorization: Bearer <this token>`."),
    "HOST": ("0.0.0.0", "Interface `serve` listens on (also --host)."),
    "PORT": ("3000", "Port `serve` listens on (also --port)."),
}

TRUE = {"1", "true", "yes", "on"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Settings:
    signing_secret: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    bot_token: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = "https://slack.com/api/"
    public_url: str = "http://localhost:3000"
    data_dir: Path = Path("./data")
    database_url: str = ""
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    log_level: str = "INFO"
    scheduler_enabled: bool = True
    invites_per_day: int = 10
    digest_lease_seconds: int = 600
    digest_concurrency: int = 32
    metrics_token: str | None = field(default=None, repr=False)
    host: str = "0.0.0.0"
    port: int = 3000
    # the providers' own settings (each provider declares its variables): name -> value as set
    provider_values: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def multi_workspace(self) -> bool:
        return bool(self.client_id or self.client_secret)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, provider_variables: Iterable[str] = ()
    ) -> Settings:
        """`provider_variables`: the names the installed providers declare (the registry's
        `variables()`); their values are checked by the providers (`Registry.check_settings`)."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or VARIABLES[name][0]

        data_dir = Path(get("QUOLUM_DATA_DIR") or "./data")
        port_text = get("PORT") or "3000"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(f"PORT must be a number between 1 and 65535, not {port_text!r}.")
        invites = get("QUOLUM_INVITES_PER_DAY") or "10"
        if not invites.isdigit():
            raise ConfigError(f"QUOLUM_INVITES_PER_DAY must be a whole number, not {invites!r}.")
        lease = get("QUOLUM_DIGEST_LEASE_SECONDS") or "600"
        if not lease.isdigit() or int(lease) < 1:
            raise ConfigError(
                f"QUOLUM_DIGEST_LEASE_SECONDS must be a whole number of seconds, not {lease!r}."
            )
        concurrency = get("QUOLUM_DIGEST_CONCURRENCY") or "32"
        if not concurrency.isdigit() or int(concurrency) < 1:
            raise ConfigError(
                f"QUOLUM_DIGEST_CONCURRENCY must be a whole number, at least 1, not {concurrency!r}."
            )
        keys_text = get("QUOLUM_ENCRYPTION_KEYS") or ""
        keys = tuple(k.strip() for k in keys_text.split(",") if k.strip())
        if keys_text and not keys:  # "," would otherwise fall back to a generated key file, silently
            raise ConfigError(
                "QUOLUM_ENCRYPTION_KEYS is set but holds no key: list Fernet keys separated by commas "
                "(`quolum-bot keys generate` prints one), or unset it to use the key file in QUOLUM_DATA_DIR."
            )
        public_url = (get("QUOLUM_PUBLIC_URL") or "").strip()
        if problem := url_problem(public_url):
            raise ConfigError(f"QUOLUM_PUBLIC_URL {problem}, not {public_url[:80]!r}.")
        log_level = (get("QUOLUM_LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(
                f"QUOLUM_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level.lower()[:40]!r}."
            )
        api_url = get("SLACK_API_URL") or "https://slack.com/api/"
        database_url = normalise_database_url(get("QUOLUM_DATABASE_URL"), data_dir)
        check_database_url(database_url)
        return cls(
            signing_secret=get("SLACK_SIGNING_SECRET"),
            client_id=get("SLACK_CLIENT_ID"),
            client_secret=get("SLACK_CLIENT_SECRET"),
            bot_token=get("SLACK_BOT_TOKEN"),
            app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
            public_url=public_url.rstrip("/"),
            data_dir=data_dir,
            database_url=database_url,
            encryption_keys=keys,
            log_level=log_level,
            scheduler_enabled=(get("QUOLUM_SCHEDULER") or "1").lower() in TRUE,
            invites_per_day=int(invites),
            digest_lease_seconds=int(lease),
            digest_concurrency=int(concurrency),
            metrics_token=get("QUOLUM_METRICS_TOKEN"),
            host=get("HOST") or "0.0.0.0",
            port=int(port_text),
            provider_values={
                name: value.strip() for name in provider_variables if (value := env.get(name, "")).strip()
            },
        )

    def warnings(self) -> list[str]:
        """What works but should not be so in production (one sentence each, for `serve` and `doctor`)."""
        if self.public_url.startswith("http://") and not is_local(self.public_url):
            return [
                f"QUOLUM_PUBLIC_URL is {self.public_url}, plain http on a public host: OAuth redirects and "
                "links then travel unencrypted and Slack refuses http request URLs; use https."
            ]
        return []

    def value(self, name: str) -> str | None:
        """A provider's setting as the operator set it (None when unset): the provider applies its
        default (providers/plugin.py `ProviderSpec.setting`). The bot's own Slack app settings
        (`SHARED`) are readable by name too: a provider that reads the Slack workspace itself uses the
        bot's app for its OAuth consent and the bot's Web API base URL."""
        if name in SHARED:
            return getattr(self, SHARED[name]) or None
        return self.provider_values.get(name)

    def with_overrides(self, **changes) -> Settings:
        """Settings fields by name; any other keyword is a provider's variable in lower case
        (`hubspot_api_url=...` sets HUBSPOT_API_URL)."""
        names = {f.name for f in fields(self)}
        values = {k.upper(): v for k, v in changes.items() if k not in names}
        own = {k: v for k, v in changes.items() if k in names}
        if values:
            merged = {**self.provider_values, **values}
            own["provider_values"] = {k: v for k, v in merged.items() if v is not None}
        return replace(self, **own)

    def check_slack(self) -> None:
        """Raise ConfigError naming what is missing when Slack cannot be served."""
        multi = self.multi_workspace
        if multi and self.bot_token:
            raise ConfigError(
                "Set either SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (multi-workspace) or SLACK_BOT_TOKEN "
                "(single workspace), not both."
            )
        if not multi and not self.bot_token:
            raise ConfigError(
                "Set SLACK_BOT_TOKEN (single workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
                "(multi-workspace): neither is set."
            )
        if multi and not self.client_id:
            raise ConfigError(
                "SLACK_CLIENT_ID is missing: multi-workspace mode needs it with SLACK_CLIENT_SECRET."
            )
        if multi and not self.client_secret:
            raise ConfigError(
                "SLACK_CLIENT_SECRET is missing: multi-workspace mode needs it with SLACK_CLIENT_ID."
            )
        if not self.signing_secret and (not self.socket_mode or multi):
            raise ConfigError(
                "SLACK_SIGNING_SECRET is missing: Slack requests cannot be verified without it."
            )
        if self.app_token and not self.app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")
        if self.bot_token and not self.bot_token.startswith("xox"):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-.")


def url_problem(url: str) -> str | None:
    """Why `url` cannot be the bot's public URL (None when it can): an http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:  # a port that is not a number, a bracket out of place
        return "is not a URL"
    if parts.scheme not in ("https", "http") or not parts.hostname or not port_ok:
        return "must be an http(s) URL with a host name, e.g. https://quolum.acme.com"
    if parts.query or parts.fragment or any(ch.isspace() for ch in url.strip()):
        return "must not have a query, a fragment or spaces"
    return None


def is_local(url: str) -> bool:
    """Whether the URL's host is this machine (localhost, a loopback address): a development set-up."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_database_url(url: str | None, data_dir: Path) -> str:
    """Default to SQLite in the data dir; pick the async driver for plain URLs."""
    if not url:
        return f"sqlite+aiosqlite:///{(data_dir / 'quolum.db').as_posix()}"
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


SUPPORTED_DATABASES = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


def check_database_url(url: str) -> None:
    """Raise ConfigError unless `url` is a SQLite or PostgreSQL URL with the driver this bot ships."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    hint = "use postgresql://user:password@host/database, or leave it unset for SQLite in QUOLUM_DATA_DIR."
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(f"QUOLUM_DATABASE_URL is not a database URL: {hint}") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if SUPPORTED_DATABASES.get(backend) != driver:
        raise ConfigError(
            f"QUOLUM_DATABASE_URL names {parsed.drivername}, which Quolum Bot does not support: {hint}"
        )
