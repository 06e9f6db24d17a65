"""Availability and holds: what is offered, what a hold takes, and what never double-books."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from accounts.roles import Role
from tests.world import World

TUESDAY = {"from": "2026-01-13T00:00:00+03:00", "to": "2026-01-14T00:00:00+03:00"}


async def _slots(world: World, service_id: object, headers: dict[str, str], **params: str) -> list[str]:
    response = await world.client.get(
        "/v1/availability", params={"service_id": str(service_id), **TUESDAY, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    return [s["starts_at"] for s in response.json()["slots"]]


async def _customer(world: World) -> dict[str, str]:
    org = await world.organization()
    return await world.headers(await world.user(Role.CUSTOMER_USER, org))


async def _hold(world: World, headers: dict[str, str], service_id: object, starts_at: str) -> Any:
    return await world.client.post(
        "/v1/bookings",
        json={"service_id": str(service_id), "starts_at": starts_at, "time_zone": "Europe/Moscow"},
        headers=headers,
    )


async def test_slots_follow_working_hours_on_the_grid_in_the_callers_zone(world: World) -> None:
    await world.engineer()
    service = await world.service()
    slots = await _slots(world, service.id, await _customer(world))
    assert slots[0] == "2026-01-13T09:00:00+03:00"
    assert slots[-1] == "2026-01-13T17:00:00+03:00"  # a 60-minute session must end by 18:00
    assert len(slots) == 17


async def test_slots_are_shown_in_the_requested_zone(world: World) -> None:
    await world.engineer()
    service = await world.service()
    slots = await _slots(world, service.id, await _customer(world), tz="Asia/Yekaterinburg")
    assert slots[0] == "2026-01-13T11:00:00+05:00"


async def test_minimum_notice_hides_slots_that_are_too_soon(world: World) -> None:
    await world.engineer()
    service = await world.service(min_notice_minutes=60 * 24)  # now is Monday 12:00 Moscow
    slots = await _slots(world, service.id, await _customer(world))
    assert slots[0] == "2026-01-13T12:00:00+03:00"


async def test_busy_time_and_the_buffer_remove_slots(world: World) -> None:
    engineer = await world.engineer()
    await world.client.post(
        f"/v1/engineers/{engineer.id}/busy-calendars",
        content=b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//EN\nBEGIN:VEVENT\nUID:x@t\n"
        b"DTSTART;TZID=Europe/Moscow:20260113T120000\nDTEND;TZID=Europe/Moscow:20260113T130000\n"
        b"SUMMARY:Busy\nEND:VEVENT\nEND:VCALENDAR\n",
        headers={**await world.headers(engineer), "content-type": "text/calendar"},
    )
    service = await world.service(buffer_after_minutes=15)
    slots = await _slots(world, service.id, await _customer(world))
    # 10:30 would end 11:30 + 15 min buffer = 11:45 < 12:00: allowed; 11:00 + 60 + 15 overlaps 12:00.
    assert "2026-01-13T10:30:00+03:00" in slots
    assert "2026-01-13T11:00:00+03:00" not in slots
    assert "2026-01-13T12:30:00+03:00" not in slots
    assert "2026-01-13T13:00:00+03:00" in slots


async def test_engineer_without_the_required_skill_offers_nothing(world: World) -> None:
    await world.engineer(skills=("sql",))
    service = await world.service(required_skills=["exchange"])
    assert await _slots(world, service.id, await _customer(world)) == []


async def test_unknown_zone_and_oversized_window_are_refused(world: World) -> None:
    service = await world.service()
    headers = await _customer(world)
    bad_zone = await world.client.get(
        "/v1/availability",
        params={"service_id": str(service.id), **TUESDAY, "tz": "Nowhere/Land"},
        headers=headers,
    )
    assert bad_zone.status_code == 422
    too_long = await world.client.get(
        "/v1/availability",
        params={
            "service_id": str(service.id),
            "from": "2026-01-13T00:00:00+03:00",
            "to": "2026-06-13T00:00:00+03:00",
        },
        headers=headers,
    )
    assert too_long.status_code == 422


async def test_hold_takes_the_slot_for_fifteen_minutes(world: World) -> None:
    await world.engineer()
    service = await world.service()
    headers = await _customer(world)
    response = await _hold(world, headers, service.id, "2026-01-13T10:00:00+03:00")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending_payment"
    assert body["hold_expires_at"] == "2026-01-12T09:15:00Z"
    assert body["price_minor"] == 500_000
    assert "2026-01-13T10:00:00+03:00" not in await _slots(world, service.id, headers)


async def test_second_hold_on_the_same_slot_is_refused_with_next_free_slots(world: World) -> None:
    await world.engineer()
    service = await world.service()
    headers = await _customer(world)
    await _hold(world, headers, service.id, "2026-01-13T10:00:00+03:00")
    response = await _hold(world, await _customer(world), service.id, "2026-01-13T10:00:00+03:00")
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"
    assert response.json()["next_free_slots"][0] == "2026-01-13T11:30:00+03:00"  # after 11:00 + 15 min buffer


async def test_expired_hold_does_not_block_the_slot(world: World) -> None:
    await world.engineer()
    service = await world.service()
    await _hold(world, await _customer(world), service.id, "2026-01-13T10:00:00+03:00")
    world.clock.advance(timedelta(minutes=16))
    response = await _hold(world, await _customer(world), service.id, "2026-01-13T10:00:00+03:00")
    assert response.status_code == 201


async def test_second_engineer_takes_the_second_hold(world: World) -> None:
    first, second = await world.engineer(), await world.engineer()
    service = await world.service()
    a = (await _hold(world, await _customer(world), service.id, "2026-01-13T10:00:00+03:00")).json()
    b = (await _hold(world, await _customer(world), service.id, "2026-01-13T10:00:00+03:00")).json()
    assert {a["engineer_id"], b["engineer_id"]} == {str(first.id), str(second.id)}


async def test_off_grid_past_and_outside_hours_starts_are_refused(world: World) -> None:
    await world.engineer()
    service = await world.service()
    headers = await _customer(world)
    assert (await _hold(world, headers, service.id, "2026-01-13T10:10:00+03:00")).status_code == 422
    assert (await _hold(world, headers, service.id, "2026-01-10T10:00:00+03:00")).status_code == 422
    outside = await _hold(world, headers, service.id, "2026-01-13T20:00:00+03:00")
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["message"] == "outside working hours"


async def test_another_organization_cannot_see_the_booking(world: World) -> None:
    await world.engineer()
    service = await world.service()
    booking = (await _hold(world, await _customer(world), service.id, "2026-01-13T10:00:00+03:00")).json()
    response = await world.client.get(f"/v1/bookings/{booking['id']}", headers=await _customer(world))
    assert response.status_code == 404


async def test_staff_cannot_hold_a_slot_for_themselves(world: World) -> None:
    service = await world.service()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    response = await _hold(world, engineer, service.id, "2026-01-13T10:00:00+03:00")
    assert response.status_code == 403


async def test_retried_hold_with_the_same_idempotency_key_returns_the_same_booking(world: World) -> None:
    await world.engineer()
    service = await world.service()
    headers = {**await _customer(world), "Idempotency-Key": "portal-hold-1"}
    body = {
        "service_id": str(service.id),
        "starts_at": "2026-01-13T10:00:00+03:00",
        "time_zone": "Europe/Moscow",
    }
    first = await world.client.post("/v1/bookings", json=body, headers=headers)
    second = await world.client.post("/v1/bookings", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["payment"]["payment_intent_id"] == first.json()["payment"]["payment_intent_id"]


async def test_a_round_the_clock_engineer_is_bookable_across_midnight(world: World) -> None:
    await world.engineer(hours=("00:00", "24:00"), days=range(7))
    service = await world.service()
    headers = await _customer(world)
    slots = await _slots(world, service.id, headers)
    assert "2026-01-13T23:30:00+03:00" in slots  # the session ends at 00:30 on Wednesday
    response = await _hold(world, headers, service.id, "2026-01-13T23:30:00+03:00")
    assert response.status_code == 201, response.text


async def test_a_busy_interval_that_began_weeks_before_the_window_still_blocks_it(world: World) -> None:
    # Availability scans only busy time that begins at most the longest imported interval before the
    # window: a three-week holiday that began before it must still be seen.
    engineer = await world.engineer()
    response = await world.client.post(
        f"/v1/engineers/{engineer.id}/busy-calendars",
        content=b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//EN\nBEGIN:VEVENT\nUID:holiday@t\n"
        b"DTSTART;TZID=Europe/Moscow:20251229T000000\nDTEND;TZID=Europe/Moscow:20260119T000000\n"
        b"SUMMARY:Holiday\nEND:VEVENT\nEND:VCALENDAR\n",
        headers={**await world.headers(engineer), "content-type": "text/calendar"},
    )
    assert response.status_code == 201, response.text
    service = await world.service()
    assert await _slots(world, service.id, await _customer(world)) == []


async def test_a_booking_with_a_wider_span_than_its_service_has_now_still_blocks(world: World) -> None:
    # A booking blocks its engineer for the span its service had when it was made; shrinking the
    # service later must not hide it from the bounded scan of a later window.
    await world.engineer()
    service = await world.service(buffer_before_minutes=60 * 24, buffer_after_minutes=0)
    customer = await _customer(world)
    held = await _hold(world, customer, service.id, "2026-01-14T09:00:00+03:00")
    assert held.status_code == 201, held.text
    staff = await world.headers(await world.user(Role.SALES))
    shrunk = await world.client.patch(
        f"/v1/services/{service.id}", json={"buffer_before_minutes": 0}, headers=staff
    )
    assert shrunk.status_code == 200, shrunk.text
    # The hold blocks from Tuesday 09:00 (a day before it) to Wednesday 10:00, so it began long before
    # a window of Wednesday alone: 09:00 is still taken there, 10:00 is free.
    wednesday = {"from": "2026-01-14T00:00:00+03:00", "to": "2026-01-15T00:00:00+03:00"}
    slots = await _slots(world, service.id, customer, **wednesday)
    assert "2026-01-14T09:00:00+03:00" not in slots
    assert "2026-01-14T10:00:00+03:00" in slots
