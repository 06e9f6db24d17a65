"""Everything a request needs that is built once at start: settings, clock, keys, policies."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncEngine

from accounts import TokenPolicy, VerificationKeyCache
from api import metrics
from api.settings import Settings
from api.throttle import LoginThrottle
from billing import CircuitBreaker, PaymentGateway, StripeGateway, StripeLimits
from core.crypto import KeyRing, derive_key
from core.time import Clock
from flows import Outside
from notifications import WorkerConfig
from scheduling import SchedulingPolicy

AT_REST_PURPOSE = "deskline/at-rest/v1"


class AppContext:
    """A plain class on purpose: Litestar would try to validate a dataclass dependency field by field."""

    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        keyring: KeyRing,
        token_policy: TokenPolicy,
        throttle: LoginThrottle,
        alchemy: SQLAlchemyAsyncConfig,
        external_keys: KeySet | None,
        key_cache: VerificationKeyCache,
        scheduling: SchedulingPolicy,
        gateway: PaymentGateway,
        read_engine: AsyncEngine,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.keyring = keyring
        self.token_policy = token_policy
        self.throttle = throttle
        self.alchemy = alchemy
        self.external_keys = external_keys
        self.key_cache = key_cache
        self.scheduling = scheduling
        self.gateway = gateway
        self.read_engine = read_engine

    def outside(self) -> Outside:
        """What the flows need besides the session (flows/)."""
        return Outside(
            self.gateway,
            self.clock,
            self.keyring,
            self.settings.is_sqlite,
            idempotency_lease=timedelta(seconds=self.settings.idempotency_lease_seconds),
        )


def build_keyring(settings: Settings) -> KeyRing:
    """AES keys from the current secret (encrypts) and previous ones (still decrypt)."""
    secrets = [
        settings.secret_key,
        *(s.strip() for s in settings.previous_secret_keys.split(",") if s.strip()),
    ]
    keys = {hashlib.sha256(s.encode()).hexdigest()[:12]: derive_key(s, AT_REST_PURPOSE) for s in secrets}
    return KeyRing(keys, primary=hashlib.sha256(settings.secret_key.encode()).hexdigest()[:12])


def build_token_policy(settings: Settings) -> TokenPolicy:
    ttl = timedelta(seconds=settings.access_token_ttl_seconds)
    return TokenPolicy(
        issuer=settings.public_url,
        audience=settings.public_url,
        access_ttl=ttl,
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        # A retired key verifies at least as long as the tokens it signed live.
        verify_grace=max(ttl, timedelta(seconds=settings.signing_key_verify_grace_seconds)),
    )


def load_external_keys(settings: Settings) -> KeySet | None:
    if settings.oidc_jwks_path is None:
        return None
    return KeySet.import_key_set(json.loads(settings.oidc_jwks_path.read_text()))


def worker_config(settings: Settings) -> WorkerConfig:
    """What ``deskline worker`` needs of the settings."""
    return WorkerConfig(
        is_sqlite=settings.is_sqlite,
        smtp_target=settings.smtp_target,
        smtp_from=settings.smtp_from,
        webhook_url_policy=settings.webhook_url_policy,
        lease=timedelta(seconds=settings.worker_lease_seconds),
        vendor_time_zone=settings.time_zone,
    )


def build_gateway(settings: Settings) -> StripeGateway:
    """Stripe with the configured limits (every call bounded in time, one retry on a network error)
    behind the process's circuit breaker, whose state /metrics shows."""
    return StripeGateway(
        settings.stripe_secret_key,
        settings.stripe_base,
        StripeLimits(
            connect_seconds=settings.stripe_connect_timeout_seconds,
            read_seconds=settings.stripe_read_timeout_seconds,
            max_network_retries=settings.stripe_max_network_retries,
            total_seconds=settings.stripe_total_timeout_seconds,
        ),
        CircuitBreaker(
            failures=settings.stripe_breaker_failures,
            window=settings.stripe_breaker_window_seconds,
            cooldown=settings.stripe_breaker_cooldown_seconds,
            on_change=metrics.stripe_circuit_changed,
        ),
    )
