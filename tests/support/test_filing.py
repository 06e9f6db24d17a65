"""Filing a free ticket: who may, and what the intake must contain."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import col

from accounts.roles import Role
from core.outbox import OutboxEvent
from notifications import Delivery
from tests.notifications.mailbox import fan_out
from tests.support.helpers import ARCHIVE, file_ticket, intake, upload
from tests.world import World


async def test_contact_files_a_ticket_that_waits_for_missing_evidence(world: World) -> None:
    _, contact, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    assert ticket["number"].startswith("DL-")
    assert ticket["status"] == "awaiting_customer"
    assert ticket["waiting_reason"] == "intake"
    assert ticket["missing"] == ["device_database", "exchange_archive_link"]
    assert ticket["clock"]["running"] is False
    assert ticket["clock"]["first_response_due_at"] is None
    assert ticket["author_email"] == contact.email


async def test_ticket_with_everything_but_the_file_misses_only_the_file(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, exchange_archive_link=ARCHIVE)
    assert ticket["missing"] == ["device_database"]


async def test_uploading_the_device_database_completes_the_intake_and_starts_the_clock(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, exchange_archive_link=ARCHIVE)
    await upload(world, headers, ticket["id"])
    body = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)).json()
    assert body["status"] == "new"
    assert body["missing"] == []
    assert body["clock"]["running"] is True
    # Monday 12:00 Moscow + 8 business hours (09-18) = Tuesday 11:00 Moscow.
    assert body["clock"]["first_response_due_at"] == "2026-01-13T08:00:00Z"


async def test_missing_structural_field_is_a_422_and_nothing_is_filed(world: World) -> None:
    _, _, headers = await world.contact()
    body = intake()
    del body["steps_to_reproduce"]
    response = await world.client.post("/v1/support/tickets", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "steps_to_reproduce"
    listing = await world.client.get("/v1/support/tickets", headers=headers)
    assert listing.json()["items"] == []


async def test_colleague_of_the_contact_is_refused_and_told_who_files(world: World) -> None:
    org, _, _ = await world.contact()
    colleague = await world.user(Role.CUSTOMER_USER, org)
    response = await world.client.post(
        "/v1/support/tickets", json=intake(), headers=await world.headers(colleague)
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_support_contact"


async def test_company_without_a_contact_is_told_how_to_name_one(world: World) -> None:
    org = await world.organization(purchase=True)
    user = await world.user(Role.CUSTOMER_ADMIN, org)
    response = await world.client.post(
        "/v1/support/tickets", json=intake(), headers=await world.headers(user)
    )
    assert response.status_code == 403
    assert response.json()["code"] == "support_contact_missing"
    assert "/support-contact" in response.json()["detail"]


async def test_company_that_never_bought_is_pointed_to_paid_sessions(world: World) -> None:
    _, _, headers = await world.contact(purchase=False)
    response = await world.client.post("/v1/support/tickets", json=intake(), headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "not_eligible"
    assert "POST /v1/bookings" in response.json()["detail"]


async def test_another_organization_cannot_see_the_ticket(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    _, _, stranger = await world.contact()
    response = await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=stranger)
    assert response.status_code == 404
    listing = await world.client.get("/v1/support/tickets", headers=stranger)
    assert listing.json()["items"] == []


async def test_ticket_numbers_increase(world: World) -> None:
    _, _, headers = await world.contact()
    first = await file_ticket(world, headers)
    second = await file_ticket(world, headers)
    assert int(second["number"][3:]) == int(first["number"][3:]) + 1


async def test_engineer_lists_tickets_of_every_organization(world: World) -> None:
    _, _, first = await world.contact()
    _, _, second = await world.contact()
    await file_ticket(world, first)
    await file_ticket(world, second)
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    listing = (await world.client.get("/v1/support/tickets", headers=engineer)).json()
    assert len(listing["items"]) == 2


async def test_the_first_ticket_is_numbered_dl_1001(world: World) -> None:
    _, _, headers = await world.contact()
    assert (await file_ticket(world, headers))["number"] == "DL-1001"


async def test_the_filed_ticket_reads_back_as_it_was_answered(world: World) -> None:
    _, _, headers = await world.contact()
    filed = await file_ticket(world, headers, exchange_archive_link=ARCHIVE, author_phone="+7 900 000-00-00")
    stored = (await world.client.get(f"/v1/support/tickets/{filed['id']}", headers=headers)).json()
    for field in (
        "number",
        "status",
        "missing",
        "clock",
        "author_name",
        "author_phone",
        "exchange_archive_link",
    ):
        assert stored[field] == filed[field], field
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    timeline = (await world.client.get(f"/v1/support/tickets/{filed['id']}", headers=engineer)).json()[
        "timeline"
    ]
    assert [(e["kind"], e["data"]) for e in timeline] == [("created", {"channel": "api"})]


async def test_under_a_regulation_that_asks_for_no_evidence_the_clock_starts_at_filing(world: World) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    regulation = (await world.client.get("/v1/support/regulation")).json()
    published = await world.client.post(
        "/v1/support/regulation",
        json={
            key: regulation[key]
            for key in ("time_zone", "weekly_hours", "first_response_minutes", "update_interval_minutes")
        }
        | {"required_items": []},
        headers=lead,
    )
    assert published.status_code == 201, published.text
    _, _, headers = await world.contact()
    filed = await file_ticket(world, headers)
    assert filed["status"] == "new"
    assert filed["missing"] == []
    assert filed["clock"]["running"] is True
    stored = (await world.client.get(f"/v1/support/tickets/{filed['id']}", headers=lead)).json()
    assert stored["clock"]["first_response_due_at"] == filed["clock"]["first_response_due_at"]
    assert [e["kind"] for e in stored["timeline"]] == ["created", "intake_completed"]


async def test_support_enter_a_phoned_in_ticket_as_the_contacts_and_the_contact_gets_the_receipt(
    world: World,
) -> None:
    organization, contact, _ = await world.contact()
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    body = {
        "organization_id": str(organization.id),
        "ticket": {
            "project_name": "Warehouse terminals",
            "description": "Called: terminals stop synchronising",
            "affected_applications": "Mobile Server",
            "steps_to_reproduce": "Sync",
            "impact": "Paper picking",
            "affected_employees": 12,
        },
    }
    response = await world.client.post("/v1/support/tickets/phone", json=body, headers=lead)
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert (ticket["channel"], ticket["filed_by"], ticket["author_email"]) == (
        "phone",
        str(contact.id),
        contact.email,
    )
    shown = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=lead)).json()
    assert "entered_by_staff" in [e["kind"] for e in shown["timeline"]]
    await fan_out(world)
    async with world.session() as session:
        recipients = (await session.scalars(sa.select(col(Delivery.recipient)))).all()
    assert contact.email in recipients


async def test_a_phoned_in_ticket_for_an_organisation_without_a_contact_is_refused(world: World) -> None:
    organization = await world.organization(purchase=True)
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    body = {
        "organization_id": str(organization.id),
        "ticket": {
            "project_name": "P",
            "description": "D",
            "affected_applications": "A",
            "steps_to_reproduce": "S",
            "impact": "I",
            "affected_employees": 1,
        },
    }
    response = await world.client.post("/v1/support/tickets/phone", json=body, headers=lead)
    assert response.status_code == 403
    assert response.json()["code"] == "support_contact_missing"


async def test_the_receipt_is_written_with_the_ticket_and_names_its_number(world: World) -> None:
    # The filing statement (PostgreSQL) or the filing call on the connection's thread (SQLite) writes the
    # receipt with the ticket, filling in the number it gives the ticket. The document is the same on both.
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    async with world.session() as session:
        receipts = (
            await session.scalars(sa.select(OutboxEvent).where(col(OutboxEvent.type) == "ticket.received"))
        ).all()
    assert [(r.subject_id, r.payload) for r in receipts] == [
        (
            uuid.UUID(ticket["id"]),
            {
                "ticket_id": ticket["id"],
                "number": ticket["number"],
                "line": "basic",
                "subject": ticket["project_name"],
                "status": "awaiting_customer",
                "channel": "api",
                "missing": ["device_database", "exchange_archive_link"],
                "first_response_due_at": None,
            },
        )
    ]


async def test_a_refused_filing_writes_no_receipt(world: World) -> None:
    org, _, _ = await world.contact()
    colleague = await world.user(Role.CUSTOMER_USER, org)
    response = await world.client.post(
        "/v1/support/tickets", json=intake(), headers=await world.headers(colleague)
    )
    assert response.status_code == 403
    async with world.session() as session:
        assert (await session.scalars(sa.select(OutboxEvent))).all() == []
