"""Support proposes a free remote session for a hard ticket; the customer prepares it."""

from __future__ import annotations

from typing import Any

from accounts.roles import Role
from tests.support.helpers import ARCHIVE, file_ticket
from tests.world import World

PRECONDITIONS: dict[str, Any] = {
    "remote_tool": "AnyDesk",
    "remote_address": "123 456 789",
    "access_secret": "pw",
    "admin_present": "Ivan, +7 900 000-00-00",
    "backup_done": True,
}


async def _proposal(world: World) -> tuple[dict[str, Any], dict[str, Any], dict[str, str], dict[str, str]]:
    _, _, contact = await world.contact()
    ticket = await file_ticket(world, contact, exchange_archive_link=ARCHIVE)
    await world.client.patch(
        f"/v1/support/tickets/{ticket['id']}",
        json={
            "unavailable_items": {"device_database": "The server does not boot; the file cannot be copied."}
        },
        headers=contact,
    )
    await world.engineer()
    service = await world.service()
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    response = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/remote-sessions",
        json={"service_id": str(service.id), "starts_at": "2026-01-13T10:00:00+03:00"},
        headers=lead,
    )
    assert response.status_code == 201, response.text
    return ticket, response.json(), contact, lead


async def test_support_proposes_a_confirmed_session_at_no_charge(world: World) -> None:
    ticket, booking, contact, _ = await _proposal(world)
    assert booking["status"] == "confirmed"
    assert booking["funding"] == "support_ticket"
    assert booking["price_minor"] == 0
    assert "payment" not in booking
    body = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=contact)).json()
    assert booking["id"] in body["messages"][-1]["body"]


async def test_the_contact_fills_in_the_preconditions_and_the_session_is_ready(world: World) -> None:
    _, booking, contact, _ = await _proposal(world)
    response = await world.client.put(
        f"/v1/bookings/{booking['id']}/preconditions", json={"values": PRECONDITIONS}, headers=contact
    )
    assert response.json()["status"] == "ready"


async def test_the_proposal_is_on_the_tickets_timeline(world: World) -> None:
    ticket, booking, _, lead = await _proposal(world)
    timeline = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=lead)).json()[
        "timeline"
    ]
    proposed = next(e for e in timeline if e["kind"] == "remote_session_proposed")
    assert proposed["data"]["booking_id"] == booking["id"]


async def test_rescheduling_a_support_session_keeps_it_confirmed(world: World) -> None:
    _, booking, contact, _ = await _proposal(world)
    response = await world.client.post(
        f"/v1/bookings/{booking['id']}/reschedule",
        json={"starts_at": "2026-01-14T11:00:00+03:00"},
        headers=contact,
    )
    assert response.json()["status"] == "confirmed"
    assert response.json()["ics_sequence"] == 1


async def test_customers_cannot_propose_sessions(world: World) -> None:
    _, _, contact = await world.contact()
    ticket = await file_ticket(world, contact)
    service = await world.service()
    response = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/remote-sessions",
        json={"service_id": str(service.id), "starts_at": "2026-01-13T10:00:00+03:00"},
        headers=contact,
    )
    assert response.status_code == 403


async def test_customers_cannot_book_with_support_ticket_funding(world: World) -> None:
    await world.engineer()
    service = await world.service()
    _, _, contact = await world.contact()
    response = await world.client.post(
        "/v1/bookings",
        json={
            "service_id": str(service.id),
            "starts_at": "2026-01-13T10:00:00+03:00",
            "funding": "support_ticket",
        },
        headers=contact,
    )
    assert response.status_code == 422
