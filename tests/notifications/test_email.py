"""The outbox delivered by `deskline worker` to a real SMTP server (aiosmtpd on loopback): receipts for
every ticket, answers, requests for information, booking confirmations with their invite, replies to
unknown senders; in the organisation's language; retried with backoff, dead after the horizon, and
redelivered by an admin."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
import sqlalchemy as sa

from accounts.models import User
from accounts.roles import Role, Scope
from api.settings import Settings
from core.outbox import Event
from notifications import (
    ENTRIES,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    WorkerLockHeld,
    sqlite_worker_lock,
)
from notifications import delivery as outbox
from notifications.mail import thread_id
from notifications.templates import MONTHS_EN, Speech
from tests.contracts.helpers import active_contract
from tests.harness import free_port
from tests.notifications.mailbox import Inbox, body_of, deliver, fan_out
from tests.support.helpers import file_ticket
from tests.world import World


async def _deliveries(world: World) -> list[Delivery]:
    async with world.session() as session:
        return list((await session.scalars(sa.select(Delivery))).all())


async def _booked_under_contract(world: World, starts_at: str) -> tuple[User, dict[str, Any]]:
    """A customer of an organisation with a contract in force, and the session it booked under it."""
    await world.engineer()
    service = await world.service()
    organization = await world.organization()
    customer = await world.user(Role.CUSTOMER_USER, organization)
    await active_contract(
        world,
        organization,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        signed_on=date(2025, 12, 1),
    )
    booked = await world.client.post(
        "/v1/bookings",
        json={"service_id": str(service.id), "starts_at": starts_at, "funding": "contract"},
        headers=await world.headers(customer),
    )
    assert booked.status_code == 201, booked.text
    body: dict[str, Any] = booked.json()
    return customer, body


async def test_a_filed_ticket_is_acknowledged_to_its_author_with_what_is_missing(
    world: World, inbox: Inbox
) -> None:
    _, contact, headers = await world.contact()
    ticket = await file_ticket(world, headers)  # without the device database
    assert await deliver(world, inbox.port) == 1
    (message,) = inbox.messages
    assert message["To"] == contact.email
    assert message["Subject"].startswith(f"[{ticket['number']}]")
    assert "mobile-device database" in body_of(message) or "базы мобильных устройств" in body_of(message)
    (delivery,) = await _deliveries(world)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)


async def test_mail_is_written_in_the_organisations_language(world: World, inbox: Inbox) -> None:
    _, _, headers = await world.contact()  # organisations default to Russian
    await file_ticket(world, headers)
    await deliver(world, inbox.port)
    assert "Мы получили ваше обращение" in body_of(inbox.messages[0])


async def test_mail_says_which_language_it_is_written_in(world: World, inbox: Inbox) -> None:
    _, _, headers = await world.contact()  # organisations default to Russian
    await file_ticket(world, headers)
    await deliver(world, inbox.port)
    assert inbox.messages[0]["Content-Language"] == "ru"


async def test_a_public_answer_and_a_request_for_information_reach_the_author(
    world: World, inbox: Inbox
) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, exchange_archive_link="https://files.example.com/a.zip")
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/transitions", json={"to": "new"}, headers=engineer
    )
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/messages",
        json={"body": "Restart the exchange service."},
        headers=engineer,
    )
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/messages",
        json={"body": "Internal note", "internal": True},
        headers=engineer,
    )
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/transitions",
        json={"to": "awaiting_customer", "message": "Send the server log, please."},
        headers=engineer,
    )
    await deliver(world, inbox.port)
    bodies = [body_of(m) for m in inbox.messages]
    assert any("Restart the exchange service." in b for b in bodies)
    assert any("Send the server log, please." in b for b in bodies)
    assert not any("Internal note" in b for b in bodies)


async def test_mail_from_an_unknown_sender_is_answered_with_why_and_what_to_do(
    world: World, inbox: Inbox
) -> None:
    client, _ = await world.integration(Scope.SUPPORT_INBOUND_EMAIL)
    raw = b"From: stranger@example.org\r\nTo: support@deskline.example\r\nSubject: Help\r\n\r\nHello\r\n"
    response = await world.client.post(
        "/v1/support/inbound-email",
        content=raw,
        headers={**await world.headers(client), "content-type": "message/rfc822"},
    )
    assert response.status_code == 422
    await deliver(world, inbox.port)
    (message,) = inbox.messages
    assert message["To"] == "stranger@example.org"
    assert "stranger@example.org" in body_of(message)


async def test_a_mail_server_that_is_down_gets_the_delivery_again_later(world: World) -> None:
    _, _, headers = await world.contact()
    await file_ticket(world, headers)
    assert await deliver(world, free_port()) == 1  # nothing listens there
    (delivery,) = await _deliveries(world)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.deliver_after > world.clock.now()
    assert await deliver(world, free_port()) == 0  # not due yet
    async with world.session() as session:
        (attempt,) = (await session.scalars(sa.select(DeliveryAttempt))).all()
    assert (attempt.ok, attempt.error is not None) == (False, True)


async def test_after_three_days_of_failures_a_delivery_is_dead_until_an_admin_redelivers(
    world: World, inbox: Inbox
) -> None:
    _, _, headers = await world.contact()
    await file_ticket(world, headers)
    down = free_port()
    for _ in range(40):
        await deliver(world, down)
        world.clock.advance(timedelta(hours=7))
    (delivery,) = await _deliveries(world)
    assert delivery.status == DeliveryStatus.DEAD
    _, admin = await world.staff(Role.ADMIN)
    dead = (await world.client.get("/v1/outbox/deliveries?status=dead", headers=admin)).json()["items"]
    assert [d["id"] for d in dead] == [str(delivery.id)]
    again = await world.client.post(f"/v1/outbox/deliveries/{delivery.id}/redeliver", headers=admin)
    assert again.json()["status"] == "pending"
    await deliver(world, inbox.port)
    assert len(inbox.messages) == 1


async def test_a_recipient_the_server_refuses_for_good_is_dead_at_once(world: World, inbox: Inbox) -> None:
    _, contact, headers = await world.contact()
    inbox.refuse.add(contact.email)
    await file_ticket(world, headers)
    await deliver(world, inbox.port)
    (delivery,) = await _deliveries(world)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DEAD, 1)
    assert "550" in (delivery.last_error or "")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_second_worker_on_one_sqlite_database_is_refused_saying_so(settings: Settings) -> None:
    with contextlib.ExitStack() as running:
        running.enter_context(sqlite_worker_lock(settings.sqlite_path))  # the first worker
        with (
            pytest.raises(WorkerLockHeld, match="SQLite runs one worker"),
            sqlite_worker_lock(settings.sqlite_path),
        ):
            pass


async def test_a_booking_confirmation_carries_the_session_invite(world: World, inbox: Inbox) -> None:
    customer, booked = await _booked_under_contract(world, "2026-01-13T10:00:00+03:00")
    assert booked["status"] == "confirmed"
    await deliver(world, inbox.port)
    confirmation = next(m for m in inbox.messages if m["To"] == customer.email and "RS-" in m["Subject"])
    (invite,) = list(confirmation.iter_attachments())
    assert invite.get_content_type() == "text/calendar"
    assert "BEGIN:VEVENT" in invite.get_content()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_workers_at_once_never_take_the_same_delivery(world: World) -> None:
    _, _, headers = await world.contact()
    for _ in range(6):
        await file_ticket(world, headers)

    await fan_out(world)

    async def claim_some() -> set[str]:
        async with world.sessions() as session, session.begin():
            taken = await outbox.claim(session, now=world.clock.now(), lease=timedelta(minutes=2), limit=4)
            await asyncio.sleep(0.2)  # hold the rows while the other worker claims
            return {str(d.id) for d, _ in taken}

    first, second = await asyncio.gather(claim_some(), claim_some())
    assert not first & second
    assert len(first | second) == 6


def _example(event: type[Event]) -> Event:
    """An event of this type with a plausible value in every field."""
    values: dict[str, Any] = {}
    for found in msgspec.structs.fields(event):
        kind = str(found.type)
        if found.name.endswith(("_at", "_on")):
            values[found.name] = "2026-01-12T09:00:00+00:00"
        elif "int" in kind:
            values[found.name] = 3
        elif "list" in kind:
            values[found.name] = ["device_database"]
        else:
            values[found.name] = f"{found.name} value"
    return event(**values)


def test_every_event_has_its_mail_in_both_languages() -> None:
    for entry in ENTRIES:
        document = _example(entry.event)
        moscow = ZoneInfo("Europe/Moscow")
        english, russian = (
            entry.template(document, Speech(False, moscow)),
            entry.template(document, Speech(True, moscow)),
        )
        assert all(english), entry.type
        assert all(russian), entry.type
        assert english != russian, entry.type


async def test_a_reminder_for_a_cancelled_session_is_skipped_not_sent(world: World, inbox: Inbox) -> None:
    customer, booked = await _booked_under_contract(world, "2026-01-14T10:00:00+03:00")
    headers = await world.headers(customer)
    await world.client.post(f"/v1/bookings/{booked['id']}/cancel", headers=headers)
    world.clock.advance(timedelta(days=2))  # both reminders are due
    await deliver(world, inbox.port)
    subjects = [m["Subject"] for m in inbox.messages]
    assert not [s for s in subjects if "Сессия через" in s]
    statuses = {d.status for d in await _deliveries(world)}
    assert DeliveryStatus.SKIPPED in statuses


async def test_a_reminder_comes_a_day_before_the_session(world: World, inbox: Inbox) -> None:
    await _booked_under_contract(world, "2026-01-14T10:00:00+03:00")
    await deliver(world, inbox.port)
    assert not [m for m in inbox.messages if "Сессия через" in m["Subject"]]  # not due yet
    world.clock.current = world.clock.current.replace(day=13, hour=7, minute=1)  # 24 h before, and a minute
    await deliver(world, inbox.port)
    assert [m["Subject"] for m in inbox.messages if "Сессия через" in m["Subject"]] == [
        "[RS-1001] Сессия через 24 ч"
    ]


async def test_leads_are_warned_before_a_first_response_falls_due_and_told_when_it_is_breached(
    world: World, inbox: Inbox
) -> None:
    lead = await world.user(Role.SUPPORT_LEAD)
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, exchange_archive_link="https://files.example.com/a.zip")
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/transitions", json={"to": "new"}, headers=engineer
    )
    world.clock.advance(timedelta(days=3))  # past the due time: the warning and the breach are both due
    await deliver(world, inbox.port)
    to_lead = [m["Subject"] for m in inbox.messages if m["To"] == lead.email]
    assert any("через час" in s for s in to_lead)
    assert any("нарушен" in s for s in to_lead)


async def test_an_answered_ticket_warns_nobody(world: World, inbox: Inbox) -> None:
    lead = await world.user(Role.SUPPORT_LEAD)
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, exchange_archive_link="https://files.example.com/a.zip")
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/transitions", json={"to": "new"}, headers=engineer
    )
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/messages", json={"body": "On it."}, headers=engineer
    )
    world.clock.advance(timedelta(days=3))
    await deliver(world, inbox.port)
    assert [m for m in inbox.messages if m["To"] == lead.email] == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_workers_fanning_out_at_once_make_each_delivery_once(world: World) -> None:
    _, _, headers = await world.contact()
    for _ in range(6):
        await file_ticket(world, headers)  # six receipts to the contact
    await asyncio.gather(fan_out(world), fan_out(world))
    assert len(await _deliveries(world)) == 6


async def test_a_filing_writes_its_event_and_no_delivery_until_the_worker_fans_it_out(world: World) -> None:
    _, contact, headers = await world.contact()
    await file_ticket(world, headers)
    assert await _deliveries(world) == []  # the request wrote what must be true, nothing more
    await fan_out(world)
    assert [d.recipient for d in await _deliveries(world)] == [contact.email]


async def test_the_receipt_is_the_threads_root_and_every_later_message_references_it(
    world: World, inbox: Inbox
) -> None:
    _, contact, headers = await world.contact()
    ticket = await file_ticket(world, headers, exchange_archive_link="https://files.example.com/a.zip")
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    base = f"/v1/support/tickets/{ticket['id']}"
    await world.client.post(f"{base}/transitions", json={"to": "new"}, headers=engineer)
    await world.client.post(f"{base}/messages", json={"body": "Restart the service."}, headers=engineer)
    await deliver(world, inbox.port)
    root = thread_id(ticket["id"], contact.email)
    (received,) = [m for m in inbox.messages if m["Message-ID"] == root]
    assert "We received your ticket" in body_of(received) or "Мы получили" in body_of(received)
    assert received["References"] is None
    later = [m for m in inbox.messages if m is not received]
    assert len(later) == 2  # the clock started, the answer
    assert all((m["References"], m["In-Reply-To"]) == (root, root) for m in later)
    # One subject for the whole thread, the ticket's number first: clients that thread by subject agree.
    assert {m["Subject"] for m in inbox.messages} == {f"[{ticket['number']}] {ticket['project_name']}"}


async def test_when_the_clock_starts_later_the_author_is_told_the_due_time_in_their_zone(
    world: World, inbox: Inbox
) -> None:
    organization, _, headers = await world.contact()
    _, admin = await world.staff(Role.ADMIN)
    moved = await world.client.patch(
        f"/v1/organizations/{organization.id}",
        json={"time_zone": "Asia/Yekaterinburg", "locale": "en"},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    ticket = await file_ticket(world, headers, exchange_archive_link="https://files.example.com/a.zip")
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    accepted = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/transitions", json={"to": "new"}, headers=engineer
    )
    assert accepted.status_code == 200, accepted.text
    await deliver(world, inbox.port)
    (receipt,) = [m for m in inbox.messages if "we will write" in body_of(m)]
    (started,) = [m for m in inbox.messages if m is not receipt]
    due = accepted.json()["clock"]["first_response_due_at"]
    assert due is not None
    assert started["Subject"] == f"[{ticket['number']}] {ticket['project_name']}"
    local = datetime.fromisoformat(due).astimezone(ZoneInfo("Asia/Yekaterinburg"))
    day = f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}"
    when = f"{day}, {local:%H:%M} (Asia/Yekaterinburg, UTC+05:00)"
    assert f"The first response is due by {when}." in body_of(started)
