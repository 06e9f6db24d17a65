"""Deskline's Prometheus metrics (served at /metrics by Litestar's Prometheus controller): the request
metrics and the Stripe circuit breaker's state."""

from __future__ import annotations

import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Enum, Gauge, Histogram

from billing import CircuitState

APP_NAME = "deskline"
METRICS_PATH = "/metrics"
LABELS = ("method", "path", "status_code", "app_name")

# The names and labels Litestar's Prometheus middleware gave them (path is the route's template).
REQUESTS = Counter("deskline_requests_total", "Total requests", LABELS)
REQUEST_ERRORS = Counter("deskline_requests_error_total", "Total errors in requests", LABELS)
REQUEST_TIME = Histogram("deskline_request_duration_seconds", "Request duration, in seconds", LABELS)
IN_PROGRESS = Gauge(
    "deskline_requests_in_progress",
    "Total requests currently in progress",
    LABELS,
    multiprocess_mode="livesum",
)


class RequestMetrics:
    """ASGI middleware counting and timing every HTTP request but those to /metrics.

    What Litestar's Prometheus middleware measured, with each label set's metric children looked up
    once and kept (its middleware built a request object, label dictionaries and four labelled
    children on every request: measurable on a hot path such as filing). The in-progress gauge keeps
    its ``status_code`` label at 200, as there."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any, Any]] = {}  # Any: prometheus children

    def _of(self, method: str, path: str, status: int) -> tuple[Any, Any, Any, Any]:
        key = (method, path, status)
        found = self._children.get(key)
        if found is None:
            values = (method, path, str(status), APP_NAME)
            found = self._children[key] = (
                REQUESTS.labels(*values),
                REQUEST_ERRORS.labels(*values),
                REQUEST_TIME.labels(*values),
                IN_PROGRESS.labels(*values),
            )
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        method, path = str(scope.get("method")), str(scope.get("path_template") or scope["path"])
        started, status, duration = time.perf_counter(), 200, 0.0

        async def measured_send(message: Message) -> None:
            nonlocal status, duration
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                duration = time.perf_counter() - started
            await send(message)

        in_progress = self._of(method, path, 200)[3]
        in_progress.inc()
        try:
            await self.app(scope, receive, measured_send)
        finally:
            in_progress.dec()
            requests, errors, timing, _ = self._of(method, path, status)
            if status >= 500:
                errors.inc()
            requests.inc()
            timing.observe(duration)


STRIPE_CIRCUIT = Enum(
    "deskline_stripe_circuit_state",
    "The circuit breaker in front of Stripe: closed (calls go through), open (refused at once), "
    "half_open (one probe call)",
    states=[state.value for state in CircuitState],
)
STRIPE_CIRCUIT_CHANGES = Counter(
    "deskline_stripe_circuit_changes", "Changes of the Stripe circuit breaker's state", ["to"]
)


def stripe_circuit_changed(state: CircuitState) -> None:
    STRIPE_CIRCUIT.state(state.value)
    STRIPE_CIRCUIT_CHANGES.labels(to=state.value).inc()
