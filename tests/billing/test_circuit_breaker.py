"""Stripe that accepts connections and never answers: each call gives up within its documented total,
the circuit breaker opens after repeated failures, and from then on holds are refused at once (503
payment_provider_unavailable with Retry-After) leaving nothing held, until one probe finds Stripe back."""

from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa
from sqlmodel import col

from accounts.roles import Role
from api.context import build_gateway
from api.settings import Settings
from billing.breaker import CircuitBreaker, CircuitState
from billing.errors import PaymentProviderUnavailable
from scheduling.models import ACTIVE_BOOKING_STATES, Booking
from tests.billing.test_stripe_faults import _customer_and_service, app_with, silent_stripe
from tests.world import World


class Ticking:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _breaker(clock: Ticking) -> CircuitBreaker:
    return CircuitBreaker(failures=3, window=30, cooldown=60, clock=clock)


def test_failures_within_the_window_open_the_breaker() -> None:
    clock = Ticking()
    breaker = _breaker(clock)
    for _ in range(3):
        assert breaker.refusal() is None
        breaker.failed()
    assert breaker.state == CircuitState.OPEN
    assert breaker.refusal() == 60


def test_failures_spread_wider_than_the_window_keep_it_closed() -> None:
    clock = Ticking()
    breaker = _breaker(clock)
    for _ in range(5):
        breaker.failed()
        clock.now += 20
    assert breaker.state == CircuitState.CLOSED


def test_an_answer_forgets_the_failures_before_it() -> None:
    clock = Ticking()
    breaker = _breaker(clock)
    breaker.failed()
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    assert breaker.state == CircuitState.CLOSED


def test_after_the_cool_down_one_probe_goes_through_and_the_rest_are_refused() -> None:
    clock = Ticking()
    breaker = _breaker(clock)
    for _ in range(3):
        breaker.failed()
    clock.now += 61
    assert breaker.refusal() is None  # the probe
    assert breaker.state == CircuitState.HALF_OPEN
    assert breaker.refusal() is not None  # everyone else, while the probe is out


def test_a_probe_that_succeeds_closes_the_breaker() -> None:
    clock = Ticking()
    breaker = _breaker(clock)
    for _ in range(3):
        breaker.failed()
    clock.now += 61
    breaker.refusal()
    breaker.succeeded()
    assert breaker.state == CircuitState.CLOSED
    assert breaker.refusal() is None


def test_a_probe_that_fails_opens_it_for_another_cool_down() -> None:
    clock = Ticking()
    breaker = _breaker(clock)
    for _ in range(3):
        breaker.failed()
    clock.now += 61
    breaker.refusal()
    breaker.failed()
    assert breaker.state == CircuitState.OPEN
    assert breaker.refusal() == 60


async def test_a_call_to_a_silent_stripe_gives_up_at_its_total_retry_included(settings: Settings) -> None:
    with silent_stripe() as url:
        gateway = build_gateway(
            settings.model_copy(
                update={
                    "stripe_api_base": url,
                    "stripe_read_timeout_seconds": 5,
                    "stripe_max_network_retries": 2,
                    "stripe_total_timeout_seconds": 1,
                }
            )
        )
        began = time.monotonic()
        with pytest.raises(PaymentProviderUnavailable) as raised:
            await gateway.refund(payment_intent="pi_1", amount=100, idempotency_key="k")
    assert time.monotonic() - began < 2
    assert raised.value.reached  # it may have been sent: the idempotency key makes a retry safe
    assert "within 1 s" in raised.value.detail


async def _active_bookings(world: World) -> int:
    async with world.session() as session:
        statement = sa.select(sa.func.count()).where(col(Booking.status).in_(ACTIVE_BOOKING_STATES))
        return int(await session.scalar(statement) or 0)


async def test_once_the_breaker_opens_holds_are_refused_at_once_and_nothing_stays_held(
    world: World, settings: Settings
) -> None:
    headers, body = await _customer_and_service(world)
    _, admin = await world.staff(Role.ADMIN)
    with silent_stripe() as url:
        async with app_with(
            world,
            settings,
            stripe_api_base=url,
            stripe_total_timeout_seconds=1,
            stripe_breaker_failures=3,
            stripe_breaker_cooldown_seconds=60,
        ) as client:
            first = await asyncio.gather(
                *(client.post("/v1/bookings", json=body, headers=headers) for _ in range(10))
            )
            began = time.monotonic()
            refused = await client.post("/v1/bookings", json=body, headers=headers)
            waited = time.monotonic() - began
            metrics = (await client.get("/metrics")).text
            other = await client.post("/v1/organizations", json={"name": "Still served"}, headers=admin)
    assert {r.status_code for r in first} == {503}
    assert {r.json()["code"] for r in first} == {"payment_provider_unavailable"}
    assert refused.status_code == 503
    assert refused.json()["code"] == "payment_provider_unavailable"
    assert "circuit open" in refused.json()["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert waited < 1, f"a hold with the breaker open took {waited:.2f} s"
    assert 'deskline_stripe_circuit_state{deskline_stripe_circuit_state="open"} 1.0' in metrics
    assert other.status_code == 201  # the rest of the API is unaffected
    assert await _active_bookings(world) == 0
