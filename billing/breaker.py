"""A circuit breaker in front of Stripe: when Stripe stops answering, requests that need it are refused
at once (503 with Retry-After) instead of each waiting out its own timeout.

Closed: every call goes through; a call that fails because Stripe did not answer properly (no
connection, a timeout, a 5xx or 429) is counted. ``failures`` of them within ``window`` seconds open
the breaker. Open: every call is refused at once until ``cooldown`` seconds have passed. Half-open:
one call, the probe, goes through while the others are still refused; its success closes the
breaker, its failure opens it for another cool-down. One breaker per process, shared by its requests.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"


class CircuitBreaker:
    def __init__(
        self,
        *,
        failures: int = 5,
        window: float = 30.0,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[CircuitState], None] | None = None,
    ) -> None:
        self.failures, self.window, self.cooldown = failures, window, cooldown
        self._clock = clock
        self._on_change = on_change
        self._recent: deque[float] = deque()
        self._state = CircuitState.CLOSED
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> CircuitState:
        return self._state

    def refusal(self) -> float | None:
        """None when a call may go ahead now (it then reports back), else the seconds until one may.
        The first call after the cool-down is let through as the probe."""
        if self._state == CircuitState.CLOSED:
            return None
        waited = self._clock() - self._opened_at
        if self._state == CircuitState.OPEN and waited >= self.cooldown:
            self._set(CircuitState.HALF_OPEN)
        if self._state == CircuitState.HALF_OPEN and not self._probing:
            self._probing = True
            return None
        return max(self.cooldown - waited, 1.0)

    def succeeded(self) -> None:
        """Stripe answered (an error of the request itself counts as an answer)."""
        self._probing = False
        self._recent.clear()
        if self._state != CircuitState.CLOSED:
            self._set(CircuitState.CLOSED)

    def failed(self) -> None:
        """Stripe did not answer properly."""
        now = self._clock()
        if self._state == CircuitState.HALF_OPEN or self._probing:
            self._open(now)
            return
        self._recent.append(now)
        while self._recent and now - self._recent[0] > self.window:
            self._recent.popleft()
        if len(self._recent) >= self.failures and self._state == CircuitState.CLOSED:
            self._open(now)

    def _open(self, now: float) -> None:
        self._probing = False
        self._recent.clear()
        self._opened_at = now
        self._set(CircuitState.OPEN)

    def _set(self, state: CircuitState) -> None:
        self._state = state
        if self._on_change is not None:
            self._on_change(state)
