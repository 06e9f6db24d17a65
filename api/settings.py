"""Settings: one object built at start from ``DESKLINE_*`` environment variables and passed in.

No other module reads ``os.environ``. Every value is validated here, so a bad value stops the
service at start with a message that names the variable.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.urls import UrlPolicy

DEV_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused outside development
STRIPE_PLACEHOLDER_KEY = "sk_test_deskline"


def _url_policy(allowed_hosts: str, allow_private: bool) -> UrlPolicy:
    hosts = frozenset(h.strip().lower() for h in allowed_hosts.split(",") if h.strip())
    return UrlPolicy(allowed_hosts=hosts, allow_private=allow_private)


class SettingsError(Exception):
    """Raised with a readable, multi-line message when the environment is invalid."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DESKLINE_", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./var/deskline.db"
    database_echo: bool = False
    # Connections per process (PostgreSQL): a request holds at most one at a time, and none while it
    # calls an outside service; a request that cannot get one in time answers 503 with Retry-After.
    database_pool_size: int = Field(default=5, ge=1, le=200)
    # A second pool for safe requests (GET, HEAD): reads never queue behind a burst of writes.
    database_read_pool_size: int = Field(default=5, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    database_pool_timeout_seconds: float = Field(default=10, gt=0, le=300)
    # SQLite: how long a writer waits for another process's write lock before answering 503.
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0, le=600_000)
    # How long a request owns its Idempotency-Key before a retry may take over and finish its work.
    idempotency_lease_seconds: int = Field(default=120, ge=5, le=3600)
    secret_key: str = DEV_SECRET
    # Older secrets still decrypt what they encrypted (comma-separated), so the key can rotate.
    previous_secret_keys: str = ""
    time_zone: str = "Europe/Moscow"
    public_url: str = "http://127.0.0.1:8000"
    log_format: Literal["auto", "json", "console"] = "auto"
    # Freeze start-up objects out of the garbage collector (shorter full-collection pauses).
    gc_freeze_on_start: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_request_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)

    access_token_ttl_seconds: int = Field(default=900, gt=0, le=30 * 86_400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, gt=0)
    signing_key_verify_grace_seconds: int = Field(default=86_400, ge=0)

    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated addresses or
    # networks, e.g. "10.0.0.5,192.168.0.0/24"); empty: none, the peer's own address is the client's.
    trusted_proxies: str = ""

    rate_limit_storage: str = "memory://"
    login_limit_per_account: str = "5/15 minutes"
    login_limit_per_address: str = "30/minute"

    booking_grid_minutes: int = Field(default=30, gt=0, le=240)
    booking_hold_minutes: int = Field(default=15, gt=0, le=24 * 60)
    # How long a portal sign-in lasts (the browser session's cookie and its record).
    portal_session_hours: int = Field(default=12, gt=0, le=24 * 30)
    # How often a watched staff queue (GET /v1/queue/events) looks for changed tickets, and how long
    # one event stream lasts before the browser reconnects (so no stream outlives a proxy's timeout).
    queue_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    queue_stream_seconds: int = Field(default=300, ge=1, le=3600)
    precondition_secret_retention_days: int = Field(default=7, ge=0, le=3650)
    # ICS calendars fetched by URL: only these hosts (comma-separated; empty = any public host),
    # and never private, loopback or link-local addresses unless explicitly allowed.
    ics_allowed_hosts: str = ""
    ics_allow_private_addresses: bool = False
    # Webhook endpoints are guarded like calendar URLs (SSRF): a host allow-list, private addresses refused.
    webhook_allowed_hosts: str = ""
    webhook_allow_private_addresses: bool = False

    attachments_dir: Path = Path("./var/attachments")
    attachment_max_bytes: int = Field(default=1024 * 1024 * 1024, gt=0)

    oidc_issuer: str | None = None
    oidc_jwks_path: Path | None = None
    oidc_audience: str | None = None

    stripe_secret_key: str = STRIPE_PLACEHOLDER_KEY
    stripe_webhook_secret: str = "whsec_deskline"  # noqa: S105 - test-mode placeholder
    stripe_api_base: str | None = None
    # What the portal's card form loads Stripe.js with (the stand-in accepts any pk_ key).
    stripe_publishable_key: str = "pk_test_deskline"
    # Development without Stripe keys: `deskline serve` runs a local stand-in (localstripe) on this port.
    stripe_stand_in: Literal["auto", "off"] = "auto"
    stripe_stand_in_port: int = Field(default=8420, gt=0, lt=65_536)
    # Every Stripe call is bounded: connecting, then each read; one retry on a network error; and in all,
    # the retry included, at most stripe_total_timeout_seconds.
    stripe_connect_timeout_seconds: float = Field(default=2, gt=0, le=10)
    stripe_read_timeout_seconds: float = Field(default=4, gt=0, le=10)
    stripe_max_network_retries: int = Field(default=1, ge=0, le=5)
    stripe_total_timeout_seconds: float = Field(default=10, gt=0, le=10)
    # The circuit breaker in front of Stripe: this many failed calls within the window open it; it stays
    # open (refusing at once, 503 with Retry-After) for the cool-down, then lets one probe through.
    stripe_breaker_failures: int = Field(default=5, ge=1, le=1000)
    stripe_breaker_window_seconds: float = Field(default=30, gt=0, le=3600)
    stripe_breaker_cooldown_seconds: float = Field(default=30, gt=0, le=3600)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, gt=0, lt=65_536)
    smtp_from: str = "support@deskline.local"
    # Development with the default SMTP settings: `deskline serve` runs a local mail stand-in that keeps
    # each message as a file in mail_stand_in_dir.
    # How long a worker owns the deliveries it claimed: a worker that dies leaves them to others after it.
    worker_lease_seconds: float = Field(default=120, gt=0, le=3600)
    mail_stand_in: Literal["auto", "off"] = "auto"
    mail_stand_in_port: int = Field(default=8425, gt=0, lt=65_536)
    mail_stand_in_dir: Path = Path("./var/mail")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must be a SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://..."
            )
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Moscow)") from exc
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.0/8)") from exc
        return ",".join(entries)

    @field_validator("login_limit_per_account", "login_limit_per_address")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate limit such as '5/15 minutes'") from exc
        return value

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        if self.environment == "production" and (self.secret_key == DEV_SECRET or len(self.secret_key) < 32):
            raise ValueError("DESKLINE_SECRET_KEY must be set to at least 32 random characters in production")
        if self.environment == "production" and self.stripe_secret_key == STRIPE_PLACEHOLDER_KEY:
            raise ValueError(
                "DESKLINE_STRIPE_SECRET_KEY must be set in production "
                "(the local Stripe stand-in is for development)"
            )
        if self.oidc_issuer and not self.oidc_jwks_path:
            raise ValueError("DESKLINE_OIDC_JWKS_PATH is required when DESKLINE_OIDC_ISSUER is set")
        return self

    @property
    def uses_stripe_stand_in(self) -> bool:
        """Development with no Stripe configured: payments go to the local stand-in."""
        return (
            self.environment == "development"
            and self.stripe_stand_in == "auto"
            and self.stripe_api_base is None
            and self.stripe_secret_key == STRIPE_PLACEHOLDER_KEY
        )

    @property
    def ics_url_policy(self) -> UrlPolicy:
        """How busy-calendar URLs are guarded (SSRF)."""
        return _url_policy(self.ics_allowed_hosts, self.ics_allow_private_addresses)

    @property
    def webhook_url_policy(self) -> UrlPolicy:
        """How webhook endpoint URLs are guarded (SSRF), like calendar URLs."""
        return _url_policy(self.webhook_allowed_hosts, self.webhook_allow_private_addresses)

    @property
    def uses_mail_stand_in(self) -> bool:
        """Development with no mail server configured: mail goes to the local stand-in."""
        return (
            self.environment == "development"
            and self.mail_stand_in == "auto"
            and (self.smtp_host, self.smtp_port) == ("127.0.0.1", 25)
        )

    @property
    def smtp_target(self) -> tuple[str, int]:
        """Where the worker sends mail: the stand-in in development, else the configured server."""
        if self.uses_mail_stand_in:
            return "127.0.0.1", self.mail_stand_in_port
        return self.smtp_host, self.smtp_port

    @property
    def stripe_base(self) -> str | None:
        """Where Stripe calls go: the configured base, the stand-in in development, else Stripe itself."""
        if self.uses_stripe_stand_in:
            return f"http://127.0.0.1:{self.stripe_stand_in_port}"
        return self.stripe_api_base

    @property
    def stripe_js_url(self) -> str:
        """Stripe.js for the portal's card form: Stripe's own, or the stand-in's replacement."""
        base = self.stripe_base
        return f"{base.rstrip('/')}/js.stripe.com/v3/" if base else "https://js.stripe.com/v3/"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def listen_dsn(self) -> str:
        """The PostgreSQL database as a plain libpq address (for asyncpg's LISTEN connection)."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        raw = self.database_url.split(":///", 1)[1]
        return None if raw in {"", ":memory:"} else Path(raw)


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (overrides win); raise SettingsError naming each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # pydantic validates the values
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = (
                "DESKLINE_" + "_".join(str(part) for part in error["loc"]).upper()
                if error["loc"]
                else "settings"
            )
            lines.append(f"  {name}: {error['msg']}")
        raise SettingsError("invalid configuration:\n" + "\n".join(lines)) from exc
