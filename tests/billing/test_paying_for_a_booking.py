"""Paying for a booked session through Stripe (localstripe), confirmed only by a verified webhook."""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import timedelta
from typing import Any

from accounts.roles import Role
from tests.billing.helpers import pay_in_browser, signed
from tests.world import World

SLOT = "2026-01-13T10:00:00+03:00"


async def _book(
    world: World, headers: dict[str, str] | None = None, service: Any = None
) -> tuple[dict[str, Any], dict[str, str]]:
    if service is None:
        await world.engineer()
        service = await world.service()
    if headers is None:
        org = await world.organization()
        headers = await world.headers(await world.user(Role.CUSTOMER_USER, org))
    response = await world.client.post(
        "/v1/bookings",
        json={"service_id": str(service.id), "starts_at": SLOT, "time_zone": "Europe/Moscow"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json(), headers


async def _deliver(world: World, event_type: str, intent: dict[str, Any], **kwargs: Any) -> Any:
    body, headers = signed(world, event_type, intent, **kwargs)
    return await world.client.post("/v1/billing/stripe/webhook", content=body, headers=headers)


async def test_booking_returns_a_payment_intent_for_the_catalog_price(world: World) -> None:
    booking, _ = await _book(world)
    payment = booking["payment"]
    assert payment["payment_intent_id"].startswith("pi_")
    assert payment["client_secret"]
    assert (payment["amount_minor"], payment["currency"]) == (500_000, "RUB")


async def test_one_stripe_customer_per_organization_and_every_call_has_our_idempotency_key(
    world: World,
) -> None:
    await world.engineer()
    await world.engineer()
    service = await world.service()
    first, headers = await _book(world, service=service)
    second, _ = await _book(world, headers=headers, service=service)
    keys = world.ctx.gateway.sent_keys  # type: ignore[attr-defined]
    customer_keys = [k for k in keys if k.startswith("deskline-customer-")]
    assert len(customer_keys) == 1
    assert f"deskline-payment-{first['payment']['payment_id']}" in keys
    assert f"deskline-payment-{second['payment']['payment_id']}" in keys


async def test_verified_success_confirms_the_booking(world: World) -> None:
    booking, headers = await _book(world)
    intent = pay_in_browser(world, booking["payment"]["payment_intent_id"])
    assert intent["status"] == "succeeded"
    response = await _deliver(world, "payment_intent.succeeded", intent)
    assert response.json() == {"received": True, "outcome": "booking confirmed"}
    assert (await world.client.get(f"/v1/bookings/{booking['id']}", headers=headers)).json()[
        "status"
    ] == "confirmed"
    payments = (await world.client.get("/v1/payments", headers={**await _admin(world)})).json()["items"]
    assert payments[0]["status"] == "succeeded"


async def _admin(world: World) -> dict[str, str]:
    _, headers = await world.staff(Role.ADMIN)
    return headers


async def test_forged_signature_is_400_and_changes_nothing(world: World) -> None:
    booking, headers = await _book(world)
    intent = pay_in_browser(world, booking["payment"]["payment_intent_id"])
    body, signed_headers = signed(world, "payment_intent.succeeded", intent)
    forged = {**signed_headers, "Stripe-Signature": signed_headers["Stripe-Signature"][:-4] + "beef"}
    response = await world.client.post("/v1/billing/stripe/webhook", content=body, headers=forged)
    assert response.status_code == 400
    assert response.json()["code"] == "webhook_rejected"
    missing = await world.client.post(
        "/v1/billing/stripe/webhook", content=body, headers={"content-type": "application/json"}
    )
    assert missing.status_code == 400
    assert (await world.client.get(f"/v1/bookings/{booking['id']}", headers=headers)).json()[
        "status"
    ] == "pending_payment"


async def test_stale_event_is_refused(world: World) -> None:
    booking, _ = await _book(world)
    intent = pay_in_browser(world, booking["payment"]["payment_intent_id"])
    response = await _deliver(
        world, "payment_intent.succeeded", intent, at=int(world.clock.now().timestamp()) - 3600
    )
    assert response.status_code == 400


async def test_replayed_event_is_acknowledged_and_does_nothing(world: World) -> None:
    booking, _ = await _book(world)
    intent = pay_in_browser(world, booking["payment"]["payment_intent_id"])
    first = await _deliver(world, "payment_intent.succeeded", intent, event_id="evt_same")
    again = await _deliver(world, "payment_intent.succeeded", intent, event_id="evt_same")
    assert first.json()["outcome"] == "booking confirmed"
    assert again.json() == {"received": True, "outcome": "duplicate"}


async def test_event_for_an_unknown_payment_is_acknowledged_and_recorded(world: World) -> None:
    response = await _deliver(
        world, "payment_intent.succeeded", {"id": "pi_unknown", "amount": 1, "currency": "rub"}
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown payment"


async def test_amount_that_differs_from_the_price_does_not_confirm(world: World) -> None:
    booking, headers = await _book(world)
    intent = {**pay_in_browser(world, booking["payment"]["payment_intent_id"]), "amount_received": 100}
    response = await _deliver(world, "payment_intent.succeeded", intent)
    assert response.json()["outcome"].startswith("amount mismatch")
    assert (await world.client.get(f"/v1/bookings/{booking['id']}", headers=headers)).json()[
        "status"
    ] == "pending_payment"


async def test_payment_after_the_hold_lapsed_confirms_when_the_slot_is_still_free(world: World) -> None:
    booking, headers = await _book(world)
    intent = pay_in_browser(world, booking["payment"]["payment_intent_id"])
    world.clock.advance(timedelta(minutes=30))
    response = await _deliver(world, "payment_intent.succeeded", intent)
    assert response.json()["outcome"] == "booking confirmed"
    assert (await world.client.get(f"/v1/bookings/{booking['id']}", headers=headers)).json()[
        "status"
    ] == "confirmed"


async def test_payment_after_the_hold_lapsed_and_the_slot_was_taken_is_refunded(world: World) -> None:
    await world.engineer()
    service = await world.service()
    booking, headers = await _book(world, service=service)
    intent = pay_in_browser(world, booking["payment"]["payment_intent_id"])
    world.clock.advance(timedelta(minutes=30))
    await _book(world, service=service)  # someone else holds the freed slot
    response = await _deliver(world, "payment_intent.succeeded", intent)
    assert response.json()["outcome"] == "refunded: slot no longer free"
    payment = next(
        p
        for p in (await world.client.get("/v1/payments", headers=await _admin(world))).json()["items"]
        if p["booking_id"] == booking["id"]
    )
    assert payment["status"] == "refunded"
    assert payment["refunded_minor"] == 500_000
    assert "slot was taken" in payment["note"]
    [refund] = payment["refunds"]
    assert refund["status"] == "succeeded"
    assert f"deskline-refund-{refund['id']}" in world.ctx.gateway.sent_keys  # type: ignore[attr-defined]
    assert (await world.client.get(f"/v1/bookings/{booking['id']}", headers=headers)).json()[
        "status"
    ] == "expired"


async def _flow(world: World, booking: dict[str, Any], tag: str) -> list[tuple[bytes, dict[str, str]]]:
    """Every event Stripe would send for a paid booking with a partial refund: a failed attempt,
    the success, and the refund."""
    intent = pay_in_browser(world, booking["payment"]["payment_intent_id"])
    return [
        signed(
            world,
            "payment_intent.payment_failed",
            {**intent, "status": "requires_payment_method"},
            event_id=f"evt_{tag}_failed",
        ),
        signed(world, "payment_intent.succeeded", intent, event_id=f"evt_{tag}_succeeded"),
        signed(
            world,
            "charge.refunded",
            {"id": f"ch_{tag}", "payment_intent": intent["id"], "amount_refunded": 100_000},
            event_id=f"evt_{tag}_refunded",
        ),
    ]


async def _state(world: World, booking: dict[str, Any], headers: dict[str, str]) -> tuple[str, str, int]:
    status = (await world.client.get(f"/v1/bookings/{booking['id']}", headers=headers)).json()["status"]
    payment = (await world.client.get("/v1/payments", headers=headers)).json()["items"][0]
    return status, payment["status"], payment["refunded_minor"]


async def test_shuffled_replays_of_the_whole_flow_end_where_one_ordered_delivery_ends(world: World) -> None:
    await world.engineer()
    await world.engineer()
    service = await world.service()
    ordered_booking, ordered_headers = await _book(world, service=service)
    shuffled_booking, shuffled_headers = await _book(world, service=service)
    for body, signature in await _flow(world, ordered_booking, "ordered"):
        await world.client.post("/v1/billing/stripe/webhook", content=body, headers=signature)
    deliveries = (await _flow(world, shuffled_booking, "shuffled")) * 5
    random.Random(7).shuffle(deliveries)
    for body, signature in deliveries:
        response = await world.client.post("/v1/billing/stripe/webhook", content=body, headers=signature)
        assert response.status_code == 200
    expected = await _state(world, ordered_booking, ordered_headers)
    assert expected == ("confirmed", "succeeded", 100_000)
    assert await _state(world, shuffled_booking, shuffled_headers) == expected


async def test_malformed_payload_with_a_valid_signature_is_400(world: World) -> None:
    body = b"this is not json"
    timestamp = int(world.clock.now().timestamp())
    secret = world.ctx.settings.stripe_webhook_secret.encode()
    signature = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    response = await world.client.post(
        "/v1/billing/stripe/webhook",
        content=body,
        headers={"Stripe-Signature": f"t={timestamp},v1={signature}"},
    )
    assert response.status_code == 400


async def test_payments_are_listed_for_one_booking_when_asked(world: World) -> None:
    await world.engineer()
    await world.engineer()
    service = await world.service()
    first, headers = await _book(world, service=service)
    second, _ = await _book(world, headers=headers, service=service)
    every = (await world.client.get("/v1/payments", headers=headers)).json()["items"]
    assert {p["booking_id"] for p in every} == {first["id"], second["id"]}
    response = await world.client.get("/v1/payments", params={"booking_id": first["id"]}, headers=headers)
    assert [p["booking_id"] for p in response.json()["items"]] == [first["id"]]
