"""Refunds by policy and by staff, never more than was paid; reconciliation against Stripe."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import col

from accounts.roles import Role
from api.cli import main
from api.settings import Settings
from billing.models import Payment, PaymentStatus
from tests.billing.helpers import pay_in_browser, signed
from tests.world import World

SLOT = "2026-01-13T10:00:00+03:00"


async def _paid_booking(world: World, **service: Any) -> tuple[dict[str, Any], dict[str, str]]:
    await world.engineer()
    svc = await world.service(**service)
    org = await world.organization()
    headers = await world.headers(await world.user(Role.CUSTOMER_USER, org))
    booking = (
        await world.client.post(
            "/v1/bookings",
            json={"service_id": str(svc.id), "starts_at": SLOT, "time_zone": "Europe/Moscow"},
            headers=headers,
        )
    ).json()
    intent = pay_in_browser(world, booking["payment"]["payment_intent_id"])
    body, signature = signed(world, "payment_intent.succeeded", intent)
    assert (
        await world.client.post("/v1/billing/stripe/webhook", content=body, headers=signature)
    ).status_code == 200
    return booking, headers


async def _payment(world: World, headers: dict[str, str], booking_id: str) -> dict[str, Any]:
    items = (await world.client.get("/v1/payments", headers=headers)).json()["items"]
    found: dict[str, Any] = next(p for p in items if p["booking_id"] == booking_id)
    return found


async def test_early_cancellation_refunds_in_full(world: World) -> None:
    booking, headers = await _paid_booking(world, full_refund_hours_before=12)
    await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=headers)
    payment = await _payment(world, headers, booking["id"])
    assert payment["status"] == "refunded"
    assert payment["refunded_minor"] == 500_000


async def test_late_cancellation_keeps_the_money(world: World) -> None:
    booking, headers = await _paid_booking(world, full_refund_hours_before=48)
    await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=headers)
    payment = await _payment(world, headers, booking["id"])
    assert payment["status"] == "succeeded"
    assert payment["refunded_minor"] == 0


async def test_staff_cancellation_refunds_in_full_even_late(world: World) -> None:
    booking, headers = await _paid_booking(world, full_refund_hours_before=48)
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=lead)
    assert (await _payment(world, headers, booking["id"]))["refunded_minor"] == 500_000


async def test_staff_refunds_part_and_cannot_refund_more_than_remains(world: World) -> None:
    booking, headers = await _paid_booking(world)
    payment = await _payment(world, headers, booking["id"])
    _, admin = await world.staff(Role.ADMIN)
    url = f"/v1/payments/{payment['id']}/refunds"
    part = await world.client.post(
        url, json={"amount_minor": 200_000, "reason": "Session ran short"}, headers=admin
    )
    assert part.status_code == 201
    assert part.json()["refundable_minor"] == 300_000
    too_much = await world.client.post(url, json={"amount_minor": 300_001, "reason": "oops"}, headers=admin)
    assert too_much.status_code == 422
    assert too_much.json()["refundable_minor"] == 300_000
    assert (await _payment(world, headers, booking["id"]))["refunded_minor"] == 200_000
    audit = (await world.client.get("/v1/audit?action=payment_refunded", headers=admin)).json()["items"]
    assert audit[0]["data"]["amount_minor"] == 200_000


async def test_customer_cannot_refund(world: World) -> None:
    booking, headers = await _paid_booking(world)
    payment = await _payment(world, headers, booking["id"])
    response = await world.client.post(
        f"/v1/payments/{payment['id']}/refunds", json={"amount_minor": 1, "reason": "x"}, headers=headers
    )
    assert response.status_code == 403


async def test_refund_event_from_stripe_does_not_count_our_refund_twice(world: World) -> None:
    booking, headers = await _paid_booking(world)
    payment = await _payment(world, headers, booking["id"])
    _, admin = await world.staff(Role.ADMIN)
    await world.client.post(
        f"/v1/payments/{payment['id']}/refunds", json={"amount_minor": 100_000, "reason": "x"}, headers=admin
    )
    body, signature = signed(
        world,
        "charge.refunded",
        {"id": "ch_1", "payment_intent": payment["stripe_payment_intent_id"], "amount_refunded": 100_000},
    )
    await world.client.post("/v1/billing/stripe/webhook", content=body, headers=signature)
    assert (await _payment(world, headers, booking["id"]))["refunded_minor"] == 100_000


async def test_refund_event_before_the_success_event_leaves_the_money_returned_and_the_booking_cancelled(
    world: World,
) -> None:
    await world.engineer()
    svc = await world.service()
    org = await world.organization()
    headers = await world.headers(await world.user(Role.CUSTOMER_USER, org))
    booking = (
        await world.client.post(
            "/v1/bookings", json={"service_id": str(svc.id), "starts_at": SLOT}, headers=headers
        )
    ).json()
    intent = pay_in_browser(world, booking["payment"]["payment_intent_id"])
    refund_body, refund_sig = signed(
        world, "charge.refunded", {"id": "ch_2", "payment_intent": intent["id"], "amount_refunded": 500_000}
    )
    await world.client.post("/v1/billing/stripe/webhook", content=refund_body, headers=refund_sig)
    body, signature = signed(world, "payment_intent.succeeded", intent)
    outcome = (await world.client.post("/v1/billing/stripe/webhook", content=body, headers=signature)).json()[
        "outcome"
    ]
    assert outcome == "already refunded"
    assert (await _payment(world, headers, booking["id"]))["status"] == "refunded"
    shown = (await world.client.get(f"/v1/bookings/{booking['id']}", headers=headers)).json()
    assert (shown["status"], shown["cancellation_refund"]) == ("cancelled", "full")


async def test_reconcile_reports_no_difference_for_agreeing_payments(
    world: World, settings: Settings
) -> None:
    await _paid_booking(world)
    result = await asyncio.to_thread(  # the command runs its own event loop
        CliRunner().invoke,
        main,
        ["billing", "reconcile", "--fail-on-difference"],
        env={
            "DESKLINE_DATABASE_URL": settings.database_url,
            "DESKLINE_STRIPE_API_BASE": settings.stripe_api_base or "",
            "DESKLINE_LOG_FORMAT": "json",
        },
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["differences"] == []


async def test_engineer_no_show_refunds_in_full_and_is_listed_with_the_payment(world: World) -> None:
    booking, headers = await _paid_booking(world, full_refund_hours_before=48)
    world.clock.advance(timedelta(days=1))  # Tuesday 12:00 Moscow, two hours after the start
    response = await world.client.post(
        f"/v1/bookings/{booking['id']}/no-show", json={"party": "engineer"}, headers=headers
    )
    assert response.json()["status"] == "no_show"
    payment = await _payment(world, headers, booking["id"])
    assert payment["status"] == "refunded"
    assert payment["refunds"][0]["reason"] == "engineer did not show: full refund"


async def test_customer_cannot_record_their_own_absence(world: World) -> None:
    booking, headers = await _paid_booking(world)
    world.clock.advance(timedelta(days=1))
    response = await world.client.post(
        f"/v1/bookings/{booking['id']}/no-show", json={"party": "customer"}, headers=headers
    )
    assert response.status_code == 403


async def test_reconcile_reports_a_payment_that_differs_from_stripe(world: World, settings: Settings) -> None:
    booking, _ = await _paid_booking(world)
    async with world.session() as session:
        await session.execute(
            sa.update(Payment)
            .where(col(Payment.booking_id) == uuid.UUID(booking["id"]))
            .values(status=PaymentStatus.FAILED)
        )
    result = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["billing", "reconcile", "--fail-on-difference"],
        env={
            "DESKLINE_DATABASE_URL": settings.database_url,
            "DESKLINE_STRIPE_API_BASE": settings.stripe_api_base or "",
            "DESKLINE_LOG_FORMAT": "json",
        },
    )
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["differences"][0]["ours"].startswith("failed")
    assert report["differences"][0]["stripe"].startswith("succeeded")
