"""Cancel by policy, reschedule with the same guarantees, start, complete, no-show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accounts.roles import Role
from tests.scheduling.helpers import booked, mark_paid
from tests.world import World


async def test_early_cancellation_gets_a_full_refund_decision(world: World) -> None:
    booking, customer, _, _ = await booked(world, full_refund_hours_before=12)  # session is 22 hours away
    await mark_paid(world, booking["id"])
    response = await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=customer)
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancellation_refund"] == "full"


async def test_late_cancellation_by_the_customer_gets_no_refund(world: World) -> None:
    booking, customer, _, _ = await booked(world, full_refund_hours_before=48)  # session is 22 hours away
    await mark_paid(world, booking["id"])
    response = await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=customer)
    assert response.json()["cancellation_refund"] == "none"


async def test_the_refund_is_quoted_before_cancelling_and_the_cancellation_keeps_to_it(world: World) -> None:
    booking, customer, _, _ = await booked(world, full_refund_hours_before=12)  # session is 22 hours away
    await mark_paid(world, booking["id"])
    quote = await world.client.get(f"/v1/bookings/{booking['id']}/cancellation", headers=customer)
    assert (quote.json()["refund"], quote.json()["by_staff"]) == ("full", False)
    until = datetime.fromisoformat(quote.json()["full_refund_until"])
    assert until == datetime.fromisoformat(booking["starts_at"]) - timedelta(hours=12)
    cancelled = await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=customer)
    assert cancelled.json()["cancellation_refund"] == "full"


async def test_a_late_quote_says_no_refund_and_changes_nothing(world: World) -> None:
    booking, customer, _, _ = await booked(world, full_refund_hours_before=48)
    await mark_paid(world, booking["id"])
    quote = await world.client.get(f"/v1/bookings/{booking['id']}/cancellation", headers=customer)
    assert quote.json()["refund"] == "none"
    after = await world.client.get(f"/v1/bookings/{booking['id']}", headers=customer)
    assert after.json()["status"] == "confirmed"


async def test_a_cancelled_booking_has_no_quote(world: World) -> None:
    booking, customer, _, _ = await booked(world)
    await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=customer)
    quote = await world.client.get(f"/v1/bookings/{booking['id']}/cancellation", headers=customer)
    assert (quote.status_code, quote.json()["code"]) == (409, "illegal_booking_transition")


async def test_staff_cancellation_always_refunds_in_full(world: World) -> None:
    booking, _, _, _ = await booked(world, full_refund_hours_before=48)
    await mark_paid(world, booking["id"])
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    response = await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=lead)
    assert response.json()["cancellation_refund"] == "full"


async def test_double_cancellation_is_refused(world: World) -> None:
    booking, customer, _, _ = await booked(world)
    await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=customer)
    response = await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=customer)
    assert response.status_code == 409


async def test_cancelled_slot_is_offered_again(world: World) -> None:
    booking, customer, _, service = await booked(world)
    await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=customer)
    slots = await world.client.get(
        "/v1/availability",
        params={
            "service_id": str(service.id),
            "from": "2026-01-13T10:00:00+03:00",
            "to": "2026-01-13T10:30:00+03:00",
        },
        headers=customer,
    )
    assert [s["starts_at"] for s in slots.json()["slots"]] == ["2026-01-13T10:00:00+03:00"]


async def test_reschedule_moves_the_booking_and_bumps_the_sequence(world: World) -> None:
    booking, customer, _, _ = await booked(world)
    response = await world.client.post(
        f"/v1/bookings/{booking['id']}/reschedule",
        json={"starts_at": "2026-01-14T15:00:00+03:00"},
        headers=customer,
    )
    assert response.status_code == 200
    moved = response.json()
    assert moved["id"] == booking["id"]
    assert moved["starts_at"] == "2026-01-14T15:00:00+03:00"
    assert moved["ics_sequence"] == booking["ics_sequence"] + 1


async def test_reschedule_to_a_taken_slot_is_refused_and_keeps_the_booking(world: World) -> None:
    booking, customer, _, service = await booked(world)
    other_org = await world.organization()
    other = await world.headers(await world.user(Role.CUSTOMER_USER, other_org))
    await world.client.post(
        "/v1/bookings",
        json={"service_id": str(service.id), "starts_at": "2026-01-14T15:00:00+03:00"},
        headers=other,
    )
    response = await world.client.post(
        f"/v1/bookings/{booking['id']}/reschedule",
        json={"starts_at": "2026-01-14T15:00:00+03:00"},
        headers=customer,
    )
    assert response.status_code == 409
    kept = (await world.client.get(f"/v1/bookings/{booking['id']}", headers=customer)).json()
    assert kept["starts_at"] == booking["starts_at"]
    assert kept["status"] == "pending_payment"


async def test_engineer_starts_and_completes_a_paid_session(world: World) -> None:
    booking, _, engineer, _ = await booked(world)
    await mark_paid(world, booking["id"])
    headers = await world.headers(engineer)
    world.clock.current = datetime(2026, 1, 13, 6, 55, tzinfo=UTC)  # 09:55 Moscow
    assert (await world.client.post(f"/v1/bookings/{booking['id']}/start", headers=headers)).json()[
        "status"
    ] == "in_progress"
    done = await world.client.post(
        f"/v1/bookings/{booking['id']}/complete", json={"report": "Exchange fixed."}, headers=headers
    )
    assert done.json()["status"] == "completed"


async def test_unpaid_session_cannot_start(world: World) -> None:
    booking, _, engineer, _ = await booked(world)
    world.clock.current = datetime(2026, 1, 13, 7, 0, tzinfo=UTC)
    response = await world.client.post(
        f"/v1/bookings/{booking['id']}/start", headers=await world.headers(engineer)
    )
    assert response.status_code == 409


async def test_another_engineer_cannot_start_the_session(world: World) -> None:
    booking, _, _, _ = await booked(world)
    await mark_paid(world, booking["id"])
    world.clock.current = datetime(2026, 1, 13, 7, 0, tzinfo=UTC)
    stranger = await world.engineer()
    response = await world.client.post(
        f"/v1/bookings/{booking['id']}/start", headers=await world.headers(stranger)
    )
    assert response.status_code == 403


async def test_no_show_is_recorded_after_the_start_time(world: World) -> None:
    booking, _, engineer, _ = await booked(world)
    await mark_paid(world, booking["id"])
    headers = await world.headers(engineer)
    early = await world.client.post(f"/v1/bookings/{booking['id']}/no-show", headers=headers)
    assert early.status_code == 409
    world.clock.current = datetime(2026, 1, 13, 7, 20, tzinfo=UTC)
    assert (await world.client.post(f"/v1/bookings/{booking['id']}/no-show", headers=headers)).json()[
        "status"
    ] == "no_show"


async def test_lapsed_hold_reads_as_expired(world: World) -> None:
    booking, customer, _, _ = await booked(world)
    world.clock.advance(timedelta(minutes=20))
    assert (await world.client.get(f"/v1/bookings/{booking['id']}", headers=customer)).json()[
        "status"
    ] == "expired"
