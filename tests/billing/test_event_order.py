"""Stripe delivers events late, twice and out of order: any permutation of a payment's events, each
delivered any number of times, must leave the booking and its payment exactly as in-order delivery
does. Decided end states: a payment refunded in full cancels its (not yet started) booking with the
refund as reason and frees the slot; a partial refund keeps the booking."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.roles import Role
from tests.billing.helpers import signed
from tests.world import World

PRICE = 500_000
# Each event Stripe may send about one payment, in the order it would normally send them.
IN_ORDER = ("failed", "succeeded", "mismatched", "partial_refund", "full_refund")
EVENT_SETS = st.sampled_from(
    [
        ("succeeded",),
        ("failed", "succeeded"),
        ("succeeded", "partial_refund"),
        ("succeeded", "full_refund"),
        ("succeeded", "partial_refund", "full_refund"),
        ("failed", "succeeded", "partial_refund", "full_refund"),
        ("failed",),
        ("mismatched",),
        ("mismatched", "full_refund"),
    ]
)


def _event(world: World, kind: str, intent_id: str, tag: str) -> tuple[bytes, dict[str, str]]:
    """The signed event, with an id of its own: a redelivery repeats the id."""
    intent = {"id": intent_id, "object": "payment_intent", "amount": PRICE, "currency": "rub"}
    payloads: dict[str, tuple[str, dict[str, Any]]] = {
        "failed": ("payment_intent.payment_failed", {**intent, "status": "requires_payment_method"}),
        "succeeded": (
            "payment_intent.succeeded",
            {**intent, "amount_received": PRICE, "status": "succeeded"},
        ),
        "mismatched": (
            "payment_intent.succeeded",
            {**intent, "amount_received": 1000, "status": "succeeded"},
        ),
        "partial_refund": (
            "charge.refunded",
            {"id": f"ch_{tag}", "payment_intent": intent_id, "amount_refunded": 200_000},
        ),
        "full_refund": (
            "charge.refunded",
            {"id": f"ch_{tag}", "payment_intent": intent_id, "amount_refunded": PRICE},
        ),
    }
    event_type, obj = payloads[kind]
    return signed(world, event_type, obj, event_id=f"evt_{tag}_{kind}")


async def _booking(world: World, slot: str) -> tuple[dict[str, Any], dict[str, str]]:
    org = await world.organization()
    headers = await world.headers(await world.user(Role.CUSTOMER_USER, org))
    service = world.app.state.bench_service
    response = await world.client.post(
        "/v1/bookings", json={"service_id": str(service.id), "starts_at": slot}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json(), headers


async def _deliver(world: World, deliveries: list[tuple[bytes, dict[str, str]]]) -> None:
    for body, headers in deliveries:
        response = await world.client.post("/v1/billing/stripe/webhook", content=body, headers=headers)
        assert response.status_code == 200, response.text


async def _state(world: World, booking: dict[str, Any], headers: dict[str, str]) -> tuple[object, ...]:
    shown = (await world.client.get(f"/v1/bookings/{booking['id']}", headers=headers)).json()
    payments = (await world.client.get("/v1/payments", headers=headers)).json()["items"]
    [payment] = [p for p in payments if p["booking_id"] == booking["id"]]
    return (
        shown["status"],
        shown["cancellation_refund"],
        payment["status"],
        payment["refunded_minor"],
        payment["note"],
    )


SLOTS = itertools.count()


def _slot() -> str:
    """A different free slot for every booking (one engineer, weekdays 9-18 Moscow)."""
    n = next(SLOTS)
    day, hour = 13 + (n // 8) % 4, 9 + n % 8  # 13-16 January 2026, Tuesday to Friday
    return f"2026-01-{day:02d}T{hour:02d}:00:00+03:00"


@pytest.fixture
async def priced_world(world: World) -> World:
    await world.engineer()
    world.app.state.bench_service = await world.service(price_minor=PRICE, buffer_after_minutes=0)
    return world


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=EVENT_SETS, data=st.data())
async def test_any_order_and_repetition_of_stripe_events_ends_as_in_order_delivery(
    priced_world: World, events: tuple[str, ...], data: st.DataObject
) -> None:
    world = priced_world
    ordered, ordered_headers = await _booking(world, _slot())
    shuffled, shuffled_headers = await _booking(world, _slot())
    tag_a, tag_b = ordered["id"][-12:], shuffled["id"][-12:]
    in_order = [kind for kind in IN_ORDER if kind in events]
    await _deliver(
        world, [_event(world, k, ordered["payment"]["payment_intent_id"], tag_a) for k in in_order]
    )

    repeated = [kind for kind in events for _ in range(data.draw(st.integers(1, 3), label=f"times {kind}"))]
    permuted = data.draw(st.permutations(repeated), label="delivery order")
    await _deliver(
        world, [_event(world, k, shuffled["payment"]["payment_intent_id"], tag_b) for k in permuted]
    )

    expected = await _state(world, ordered, ordered_headers)
    assert await _state(world, shuffled, shuffled_headers) == expected


async def test_a_full_refund_cancels_the_confirmed_booking_and_frees_its_slot(priced_world: World) -> None:
    world = priced_world
    slot = _slot()
    booking, headers = await _booking(world, slot)
    intent = booking["payment"]["payment_intent_id"]
    await _deliver(
        world, [_event(world, "succeeded", intent, "a"), _event(world, "full_refund", intent, "a")]
    )
    assert await _state(world, booking, headers) == ("cancelled", "full", "refunded", PRICE, None)
    again, _ = await _booking(world, slot)  # the slot is free again
    assert again["status"] == "pending_payment"


async def test_a_partial_refund_keeps_the_booking(priced_world: World) -> None:
    world = priced_world
    booking, headers = await _booking(world, _slot())
    intent = booking["payment"]["payment_intent_id"]
    await _deliver(
        world, [_event(world, "partial_refund", intent, "b"), _event(world, "succeeded", intent, "b")]
    )
    assert await _state(world, booking, headers) == ("confirmed", None, "succeeded", 200_000, None)
