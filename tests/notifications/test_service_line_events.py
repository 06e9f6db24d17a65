"""The rest of the service lines' events reach the customer's mailbox as their published documents: a
hold waiting for payment, a refund Stripe made, an SLA timer that ended late, and a month's service
report once the month is invoiced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlmodel import col

from accounts.roles import Role
from core.outbox import OutboxEvent
from notifications import CATALOG
from notifications.mail import thread_id
from tests.billing.helpers import pay_in_browser, signed
from tests.contracts.helpers import contract_with_a_first_response
from tests.notifications.mailbox import Inbox, body_of, deliver
from tests.scheduling.helpers import booked
from tests.world import World

SLOT = "2026-01-13T10:00:00+03:00"


async def _documents(world: World, event_type: str) -> list[dict[str, Any]]:
    """The payloads the outbox holds of one type, each checked against its published document."""
    async with world.session() as session:
        events = (
            await session.scalars(sa.select(OutboxEvent).where(col(OutboxEvent.type) == event_type))
        ).all()
    for event in events:
        msgspec.convert(event.payload, CATALOG[event.type].event)  # raises on a missing or extra field
    return [event.payload for event in events]


async def _hold(world: World) -> tuple[dict[str, Any], dict[str, str]]:
    booking, headers, _, _ = await booked(world, starts_at=SLOT, full_refund_hours_before=12)
    return booking, headers


async def test_a_hold_tells_the_customer_the_price_and_until_when_it_is_kept(
    world: World, inbox: Inbox
) -> None:
    booking, _ = await _hold(world)
    await deliver(world, inbox.port)
    (message,) = [m for m in inbox.messages if "удержано" in m["Subject"]]
    assert message["Subject"] == f"[{booking['number']}] Время сессии удержано до оплаты"
    assert "5000.00 RUB" in body_of(message)
    (held,) = await _documents(world, "booking.held")
    assert (held["booking_id"], held["hold_expires_at"]) == (
        booking["id"],
        datetime.fromisoformat(booking["hold_expires_at"]).isoformat(),
    )


async def test_a_refund_stripe_made_is_told_to_the_customer_with_its_amount(
    world: World, inbox: Inbox
) -> None:
    booking, headers = await _hold(world)
    intent = pay_in_browser(world, booking["payment"]["payment_intent_id"])
    body, signature = signed(world, "payment_intent.succeeded", intent)
    await world.client.post("/v1/billing/stripe/webhook", content=body, headers=signature)
    await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=headers)  # early: in full
    await deliver(world, inbox.port)
    (message,) = [m for m in inbox.messages if "Возврат" in m["Subject"]]
    assert message["Subject"] == f"[{booking['number']}] Возврат 5000.00 RUB"
    (refunded,) = await _documents(world, "booking.refunded")
    assert (refunded["amount_minor"], refunded["currency"]) == (500_000, "RUB")


async def test_a_late_sla_reply_is_told_to_the_customer_as_a_breach(world: World, inbox: Inbox) -> None:
    contract = await contract_with_a_first_response(world, after=timedelta(minutes=60))
    await deliver(world, inbox.port)
    (message,) = [m for m in inbox.messages if "Нарушен срок" in m["Subject"]]
    assert contract["number"] in message["Subject"]
    (breach,) = await _documents(world, "contract.breach")
    assert (breach["timer"], breach["priority"], breach["breach_minutes"]) == ("first_response", "P1", 30)
    # It threads into the ticket: it references the ticket's receipt to this recipient.
    assert message["References"] == thread_id(breach["ticket_id"], message["To"])


async def test_a_timely_sla_reply_tells_nobody_of_a_breach(world: World) -> None:
    await contract_with_a_first_response(world, after=timedelta(minutes=10))
    assert await _documents(world, "contract.breach") == []


async def test_invoicing_a_month_tells_the_customer_its_report_is_ready_once(
    world: World, inbox: Inbox
) -> None:
    contract = await contract_with_a_first_response(world, after=timedelta(minutes=60))
    world.clock.current = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    _, admin = await world.staff(Role.ADMIN)
    for _ in range(2):  # invoicing the month again tells nobody again
        await world.client.post("/v1/invoices", json={"period": "2026-01"}, headers=admin)
    await deliver(world, inbox.port)
    (message,) = [m for m in inbox.messages if "Отчёт по договору" in m["Subject"]]
    assert message["Subject"] == f"Отчёт по договору {contract['number']} за 2026-01"
    (ready,) = await _documents(world, "contract.report_ready")
    assert (ready["breaches"], ready["credit_minor"]) == (1, 750_000)
    report = await world.client.get(ready["report_path"], headers=admin)
    assert report.json()["credits"]["amount_minor"] == 750_000
