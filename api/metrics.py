"""Deskline's own Prometheus metrics, beside the request metrics Litestar's plugin keeps (/metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Enum

from billing import CircuitState

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
