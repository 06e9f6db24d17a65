"""What availability remembers between requests is never older than the engineers' rows: every read
below follows a read of the same window (so the first is remembered), then a change, and the second
read must show the change. Writes through the API, through the database directly, and time alone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import User
from accounts.roles import Role
from scheduling.models import BlockedRevision, Booking, BookingStatus, Engineer
from tests.scheduling.helpers import TUESDAY_10, booked, mark_paid
from tests.world import World

TUESDAY = {"from": "2026-01-13T00:00:00+03:00", "to": "2026-01-14T00:00:00+03:00"}
NOON = "2026-01-13T12:00:00+03:00"


async def _slots(world: World, service_id: object, **window: str) -> list[str]:
    headers = await world.headers(await world.user(Role.CUSTOMER_USER, await world.organization()))
    response = await world.client.get(
        "/v1/availability", params={"service_id": str(service_id), **(window or TUESDAY)}, headers=headers
    )
    assert response.status_code == 200, response.text
    return [s["starts_at"] for s in response.json()["slots"]]


async def _import(world: World, engineer: User, events: bytes) -> None:
    calendar = b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//EN\n" + events + b"END:VCALENDAR\n"
    response = await world.client.post(
        f"/v1/engineers/{engineer.id}/busy-calendars",
        params={"name": "outlook"},
        content=calendar,
        headers={**await world.headers(engineer), "content-type": "text/calendar"},
    )
    assert response.status_code in {200, 201}, response.text


BUSY_AT_NOON = (
    b"BEGIN:VEVENT\nUID:noon@t\nDTSTART;TZID=Europe/Moscow:20260113T120000\n"
    b"DTEND;TZID=Europe/Moscow:20260113T130000\nSUMMARY:Busy\nEND:VEVENT\n"
)


async def _revision_in(session: AsyncSession, engineer: User) -> int | None:
    """The engineer's revision as ``session`` sees it (None: no row yet)."""
    return await session.scalar(
        sa.select(col(BlockedRevision.revision)).where(col(BlockedRevision.engineer_id) == engineer.id)
    )


async def _revision(world: World, engineer: User) -> int | None:
    async with world.session() as session:
        return await _revision_in(session, engineer)


async def _hold(world: World, service_id: object) -> None:
    customer = await world.headers(await world.user(Role.CUSTOMER_USER, await world.organization()))
    held = await world.client.post(
        "/v1/bookings",
        json={"service_id": str(service_id), "starts_at": TUESDAY_10, "time_zone": "Europe/Moscow"},
        headers=customer,
    )
    assert held.status_code == 201, held.text


async def test_a_hold_taken_after_the_window_was_read_is_gone_from_the_next_read(world: World) -> None:
    await world.engineer()
    service = await world.service()
    assert TUESDAY_10 in await _slots(world, service.id)
    await _hold(world, service.id)
    assert TUESDAY_10 not in await _slots(world, service.id)


async def test_a_lapsing_hold_gives_its_slot_back_with_nothing_written(world: World) -> None:
    booking, _, _, service = await booked(world)
    assert TUESDAY_10 not in await _slots(world, service.id)
    world.clock.advance(timedelta(minutes=16))  # the hold lapsed; no row changed
    assert TUESDAY_10 in await _slots(world, service.id)
    async with world.session() as session:
        assert (await session.get(Booking, uuid.UUID(booking["id"]))).status == BookingStatus.PENDING_PAYMENT  # type: ignore[union-attr]


async def test_a_paid_hold_keeps_its_slot_after_the_hold_would_have_lapsed(world: World) -> None:
    booking, _, _, service = await booked(world)
    assert TUESDAY_10 not in await _slots(world, service.id)
    await mark_paid(world, booking["id"])
    world.clock.advance(timedelta(minutes=16))
    assert TUESDAY_10 not in await _slots(world, service.id)


async def test_a_cancelled_booking_gives_its_slot_back_at_the_next_read(world: World) -> None:
    booking, customer, _, service = await booked(world)
    assert TUESDAY_10 not in await _slots(world, service.id)
    cancelled = await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=customer)
    assert cancelled.json()["status"] == "cancelled"
    assert TUESDAY_10 in await _slots(world, service.id)


async def test_an_imported_busy_calendar_takes_slots_already_read(world: World) -> None:
    engineer = await world.engineer()
    service = await world.service()
    assert NOON in await _slots(world, service.id)
    await _import(world, engineer, BUSY_AT_NOON)
    assert NOON not in await _slots(world, service.id)


async def test_a_calendar_imported_again_without_the_event_gives_the_time_back(world: World) -> None:
    engineer = await world.engineer()
    service = await world.service()
    await _import(world, engineer, BUSY_AT_NOON)
    assert NOON not in await _slots(world, service.id)
    await _import(world, engineer, b"")  # the source's intervals are deleted, none inserted
    assert NOON in await _slots(world, service.id)


async def test_a_booking_changed_straight_in_the_database_is_seen_at_the_next_read(world: World) -> None:
    booking, _, _, service = await booked(world)
    await mark_paid(world, booking["id"])
    assert TUESDAY_10 not in await _slots(world, service.id)
    async with world.session() as session:  # no application code: the database's trigger marks the change
        await session.execute(
            sa.update(Booking)
            .where(col(Booking.id) == uuid.UUID(booking["id"]))
            .values(status=BookingStatus.CANCELLED)
        )
    assert TUESDAY_10 in await _slots(world, service.id)


async def test_windows_starting_at_other_minutes_of_the_hour_see_the_same_change(world: World) -> None:
    await world.engineer()
    service = await world.service()
    later = {"from": "2026-01-13T00:20:00+03:00", "to": "2026-01-13T23:40:00+03:00"}
    assert TUESDAY_10 in await _slots(world, service.id, **later)
    await _hold(world, service.id)
    assert TUESDAY_10 not in await _slots(world, service.id, **later)
    assert TUESDAY_10 not in await _slots(world, service.id)


async def test_every_change_to_an_engineers_bookings_gives_the_engineer_a_new_revision(world: World) -> None:
    booking, customer, engineer, _ = await booked(world)
    seen = {await _revision(world, engineer)}
    await mark_paid(world, booking["id"])
    seen.add(await _revision(world, engineer))
    await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=customer)
    seen.add(await _revision(world, engineer))
    assert None not in seen  # the hold itself gave the engineer a revision
    assert len(seen) == 3


async def test_a_rolled_back_change_leaves_the_engineers_revision_as_it_was(world: World) -> None:
    booking, _, engineer, _ = await booked(world)
    before = await _revision(world, engineer)
    async with world.sessions() as session, session.begin():
        await session.execute(
            sa.update(Booking)
            .where(col(Booking.id) == uuid.UUID(booking["id"]))
            .values(status=BookingStatus.CANCELLED)
        )
        assert await _revision_in(session, engineer) != before
        await session.rollback()
    assert await _revision(world, engineer) == before


async def test_an_import_replacing_several_intervals_at_once_is_seen_at_the_next_read(world: World) -> None:
    # One statement deletes (and one inserts) several rows of the same engineer: the database's
    # trigger gives the engineer one new revision for the statement, not one per row.
    engineer = await world.engineer()
    service = await world.service()
    hours = (b"100000", b"120000", b"150000")
    await _import(world, engineer, b"".join(_event(b"first", h) for h in hours))
    assert NOON not in await _slots(world, service.id)
    await _import(world, engineer, b"".join(_event(b"second", h) for h in (b"090000", b"110000", b"160000")))
    assert NOON in await _slots(world, service.id)
    assert "2026-01-13T09:00:00+03:00" not in await _slots(world, service.id)


def _event(uid: bytes, hour: bytes) -> bytes:
    return (
        b"BEGIN:VEVENT\nUID:" + uid + hour + b"@t\nDTSTART;TZID=Europe/Moscow:20260113T" + hour + b"\n"
        b"DURATION:PT1H\nSUMMARY:Busy\nEND:VEVENT\n"
    )


async def test_an_engineer_with_busy_time_can_still_be_deleted_from_the_database(world: World) -> None:
    # The cascade deletes the engineer's intervals; their trigger must not try to give the engineer
    # being deleted a new revision (a row that would name no engineer).
    engineer = await world.engineer()
    await _import(world, engineer, BUSY_AT_NOON)
    async with world.session() as session:
        await session.execute(sa.delete(Engineer).where(col(Engineer.user_id) == engineer.id))
    async with world.session() as session:
        assert await session.get(Engineer, engineer.id) is None
        assert await session.get(BlockedRevision, engineer.id) is None
