"""Every customer-facing operation that names an object in its path, taken from the OpenAPI document, is
called by a customer of another organisation with the ids of a real organisation's objects: each one
answers 404 (never 403, never the object), so a new operation that forgets tenancy fails here."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest

from accounts.roles import Role
from api.access import rule_for
from api.cli import OPENAPI_PATH
from billing import ChargeLine, record_invoice
from tests.contracts.helpers import active_contract, sales
from tests.world import World

SLA_TICKET_PATH = "/v1/contracts/{contract_id}/tickets/{ticket_id}"
SLOT = "2026-01-15T10:00:00+03:00"
# A valid body for each changing operation, so that only tenancy can refuse it.
BODIES: dict[str, Any] = {
    "PATCH /v1/organizations/{organization_id}/users/{user_id}": {"full_name": "Hijacked"},
    "PATCH /v1/support/tickets/{ticket_id}": {"impact": "Everything"},
    "POST /v1/support/tickets/{ticket_id}/messages": {"body": "Hello"},
    "POST /v1/support/tickets/{ticket_id}/transitions": {"to": "closed"},
    "POST /v1/support/tickets/{ticket_id}/explanation-requests": {"reason": "Late"},
    "POST /v1/contracts/{contract_id}/tickets": {"priority": "P2", "subject": "S", "description": "D"},
    f"POST {SLA_TICKET_PATH}/messages": {"body": "Hello"},
    f"POST {SLA_TICKET_PATH}/transitions": {"to": "closed"},
    "PUT /v1/bookings/{booking_id}/preconditions": {"values": {"remote_tool": "AnyDesk"}},
    "POST /v1/bookings/{booking_id}/reschedule": {"starts_at": "2026-01-15T14:00:00+03:00"},
    "POST /v1/bookings/{booking_id}/cancel": None,
    "POST /v1/bookings/{booking_id}/no-show": None,
    "POST /v1/calendar-feeds/{feed_id}/revoke": None,
}
QUERIES = {"GET /v1/contracts/{contract_id}/report": {"period": "2026-01"}}
UPLOADS = {
    "POST /v1/support/tickets/{ticket_id}/attachments",
    f"POST {SLA_TICKET_PATH}/attachments",
}


def _customer_operations_on_objects() -> list[tuple[str, str]]:
    paths = json.loads(OPENAPI_PATH.read_text())["paths"]
    found = []
    for path, item in paths.items():
        for method in item:
            rule = rule_for(method.upper(), path)
            if rule and not rule.public and Role.CUSTOMER_USER in rule.roles and "{" in path:
                found.append((method.upper(), path))
    return found


async def _their_objects(world: World) -> dict[str, str]:
    """A real organisation's objects of every kind a customer path names, by path parameter (an SLA
    ticket and its attachment under ``sla_``)."""
    theirs = await world.organization(purchase=True)
    contact = await world.user(Role.CUSTOMER_USER, theirs)
    await world.support_contact(theirs, contact)
    contact_headers = await world.headers(contact)
    ticket = await world.client.post(
        "/v1/support/tickets",
        json={
            "project_name": "P",
            "description": "D",
            "affected_applications": "A",
            "steps_to_reproduce": "S",
            "impact": "I",
            "affected_employees": 3,
        },
        headers=contact_headers,
    )
    attachment = await world.client.post(
        f"/v1/support/tickets/{ticket.json()['id']}/attachments",
        files={"file": ("devices.db", b"SQLite")},
        data={"kind": "device_database"},
        headers=contact_headers,
    )
    contract = await active_contract(
        world, theirs, starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), signed_on=date(2025, 12, 1)
    )
    document = await world.client.post(
        f"/v1/contracts/{contract['id']}/documents",
        files={"file": ("regulation.pdf", b"%PDF-1.4")},
        headers=await sales(world),
    )
    sla_ticket = await world.client.post(
        f"/v1/contracts/{contract['id']}/tickets",
        json={"priority": "P2", "subject": "S", "description": "D"},
        headers=contact_headers,
    )
    sla_attachment = await world.client.post(
        f"/v1/contracts/{contract['id']}/tickets/{sla_ticket.json()['id']}/attachments",
        files={"file": ("log.txt", b"log")},
        headers=contact_headers,
    )
    await world.engineer()
    service = await world.service()
    booking = await world.client.post(
        "/v1/bookings",
        json={"service_id": str(service.id), "starts_at": SLOT, "funding": "contract"},
        headers=contact_headers,
    )
    feed = await world.client.post("/v1/calendar-feeds", headers=contact_headers)
    async with world.session() as session:
        invoice = await record_invoice(
            session,
            organization_id=theirs.id,
            source="contract",
            source_id=uuid.UUID(contract["id"]),
            period="2026-01",
            currency="RUB",
            lines=[ChargeLine("Monthly fee", 100_000)],
            now=world.clock.now(),
        )
    made = [ticket, attachment, document, sla_ticket, sla_attachment, booking, feed]
    assert all(r.status_code in {200, 201} for r in made), [r.text for r in made]
    return {
        "organization_id": str(theirs.id),
        "user_id": str(contact.id),
        "ticket_id": ticket.json()["id"],
        "attachment_id": attachment.json()["id"],
        "contract_id": contract["id"],
        "document_id": document.json()["id"],
        "sla_ticket_id": sla_ticket.json()["id"],
        "sla_attachment_id": sla_attachment.json()["id"],
        "booking_id": booking.json()["id"],
        "feed_id": feed.json()["id"],
        "invoice_id": str(invoice.id),
    }


def _url(path: str, ids: dict[str, str]) -> str:
    sla = path.startswith("/v1/contracts/")
    for name in ("ticket_id", "attachment_id"):
        path = path.replace("{" + name + "}", ids[f"sla_{name}" if sla else name])
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


@pytest.mark.parametrize("role", [Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN])
async def test_another_organisations_objects_answer_404_on_every_customer_operation(
    world: World, role: Role
) -> None:
    ids = await _their_objects(world)
    mine = await world.organization(purchase=True)
    me = await world.user(role, mine)
    await world.support_contact(mine, me)  # the most a customer can be: its own organisation's contact
    headers = await world.headers(me)
    leaked = []
    for method, path in _customer_operations_on_objects():
        operation = f"{method} {path}"
        assert method == "GET" or operation in BODIES or operation in UPLOADS, f"give {operation} a body"
        url = _url(path, ids)
        if operation in UPLOADS:
            response = await world.client.post(url, files={"file": ("x.txt", b"x")}, headers=headers)
        else:
            response = await world.client.request(
                method, url, json=BODIES.get(operation), params=QUERIES.get(operation), headers=headers
            )
        if response.status_code != 404 or any(value in response.text for value in ids.values()):
            leaked.append(f"{operation}: {response.status_code} {response.text[:200]}")
    assert not leaked, "\n".join(leaked)
