"""Login throttling per account and per address, backed by ``limits`` (memory, or Redis shared by
every process). With several processes use Redis: an in-memory store counts per process."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from accounts import InvalidCredentials, LoginThrottled, ThrottleUnavailable

T = TypeVar("T")
RETRY_AFTER_SECONDS = 5


class LoginThrottle:
    """Every attempt counts against the address; only failed attempts count against the account."""

    def __init__(self, storage_uri: str, *, per_account: str, per_address: str) -> None:
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        self.uri = storage_uri
        self._storage = storage_from_string(uri)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._per_account = parse(per_account)
        self._per_address = parse(per_address)

    @property
    def shared(self) -> bool:
        return not self.uri.startswith(("memory://", "async+memory://"))

    async def check(self) -> bool:
        """Whether the store answers (always, in memory)."""
        try:
            return bool(await self._storage.check())  # type: ignore[misc]  # async storages return a coroutine
        except Exception:
            return False

    async def before_attempt(self, *, account: str, address: str) -> None:
        """Refuse the attempt (LoginThrottled with Retry-After) if either limit is spent."""
        account_key, address_key = ("account", account.strip().lower()), ("address", address)
        if not await self._guarded(lambda: self._limiter.test(self._per_account, *account_key)):
            await self._refuse(self._per_account, account_key)
        if not await self._guarded(lambda: self._limiter.hit(self._per_address, *address_key)):
            await self._refuse(self._per_address, address_key)

    async def attempt(self, *, account: str, address: str, login: Callable[[], Awaitable[T]]) -> T:
        """Run ``login`` within the limits: refused when they are spent, counted when it fails."""
        await self.before_attempt(account=account, address=address)
        try:
            return await login()
        except InvalidCredentials:
            await self.after_failure(account=account)
            raise

    async def after_failure(self, *, account: str) -> None:
        await self._guarded(lambda: self._limiter.hit(self._per_account, "account", account.strip().lower()))

    async def _guarded(self, call: Callable[[], Awaitable[T]]) -> T:
        """A store that stops answering refuses logins (503) rather than letting guesses through."""
        try:
            return await call()
        except Exception as exc:  # the Redis client's own errors: connection refused, timeouts
            raise ThrottleUnavailable(
                "Login is unavailable for a moment: the throttling store does not answer.",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            ) from exc

    async def _refuse(self, limit: object, key: tuple[str, str]) -> None:
        stats = await self._guarded(lambda: self._limiter.get_window_stats(limit, *key))  # type: ignore[arg-type]
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise LoginThrottled(
            "Too many login attempts. Try again later.",
            retry_after_seconds=retry_after,
            headers={"Retry-After": retry_after},
        )
