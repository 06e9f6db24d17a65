"""What the outbox writes is what the OpenAPI document's `webhooks` section promises: every event of a
day's work (tickets received, answered, waiting, an explanation asked; sessions confirmed, moved,
reminded, cancelled; a contract activated) converts exactly (no field more, none missing) to its
published document, and every published event type is in the document."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import msgspec
import sqlalchemy as sa

from accounts.roles import Role
from api.cli import OPENAPI_PATH
from core.outbox import OutboxEvent
from notifications import CATALOG, WEBHOOK_EVENT_TYPES, readme_table
from tests.contracts.helpers import active_contract
from tests.harness import ROOT
from tests.support.helpers import file_ticket
from tests.world import World

README = ROOT / "README.md"


def test_every_event_type_an_integration_can_subscribe_to_is_documented() -> None:
    published = json.loads(OPENAPI_PATH.read_text())["webhooks"]
    assert set(WEBHOOK_EVENT_TYPES) == set(published)


async def test_the_outbox_writes_exactly_the_documented_documents(world: World) -> None:
    _, _, contact = await world.contact()
    ticket = await file_ticket(world, contact, exchange_archive_link="https://files.example.com/a.zip")
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    base = f"/v1/support/tickets/{ticket['id']}"
    await world.client.post(f"{base}/transitions", json={"to": "new"}, headers=engineer)
    await world.client.post(f"{base}/messages", json={"body": "Restart it."}, headers=engineer)
    await world.client.post(
        f"{base}/transitions", json={"to": "awaiting_customer", "message": "The log?"}, headers=engineer
    )
    await world.engineer()
    service = await world.service()
    organization = await world.organization()
    customer = await world.headers(await world.user(Role.CUSTOMER_USER, organization))
    await active_contract(
        world,
        organization,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        signed_on=date(2025, 12, 1),
    )
    booked = await world.client.post(
        "/v1/bookings",
        json={"service_id": str(service.id), "starts_at": "2026-01-15T10:00:00+03:00", "funding": "contract"},
        headers=customer,
    )
    await world.client.post(
        f"/v1/bookings/{booked.json()['id']}/reschedule",
        json={"starts_at": "2026-01-15T14:00:00+03:00"},
        headers=customer,
    )
    await world.client.post(f"/v1/bookings/{booked.json()['id']}/cancel", headers=customer)
    world.clock.current = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
    late = await file_ticket(world, contact, exchange_archive_link="https://files.example.com/b.zip")
    await world.client.post(
        f"/v1/support/tickets/{late['id']}/transitions", json={"to": "new"}, headers=engineer
    )
    world.clock.advance(timedelta(days=3))  # the first response is late: the contact may ask why
    await world.client.post(
        f"/v1/support/tickets/{late['id']}/explanation-requests",
        json={"reason": "No answer"},
        headers=contact,
    )
    async with world.session() as session:
        events = (await session.scalars(sa.select(OutboxEvent))).all()
    seen = set()
    for event in events:
        msgspec.convert(event.payload, CATALOG[event.type].event)  # raises on a missing or extra field
        seen.add(event.type)
    assert {
        "ticket.received",
        "ticket.answered",
        "ticket.waiting_for_customer",
        "ticket.explanation_requested",
        "booking.confirmed",
        "booking.rescheduled",
        "booking.reminder",
        "booking.cancelled",
        "contract.activated",
    } <= seen


def test_the_readme_lists_the_events_as_the_catalog_has_them() -> None:
    assert readme_table() in README.read_text(), "README.md must show notifications.readme_table() as it is"
