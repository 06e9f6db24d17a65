"""Holiday calendars: imported from ICS, edited by hand, and honoured by the regulation clock."""

from __future__ import annotations

from accounts.roles import Role
from tests.support.helpers import ARCHIVE, file_ticket, upload
from tests.world import World

PRODUCTION_CALENDAR = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//ru holidays//EN
BEGIN:VEVENT
UID:ny-2026@test
DTSTART;VALUE=DATE:20260101
DTEND;VALUE=DATE:20260109
SUMMARY:New Year holidays
END:VEVENT
BEGIN:VEVENT
UID:defender@test
DTSTART;VALUE=DATE:20260223
SUMMARY:Defender of the Fatherland Day
RRULE:FREQ=YEARLY
END:VEVENT
BEGIN:VEVENT
UID:tuesday@test
DTSTART;VALUE=DATE:20260113
DTEND;VALUE=DATE:20260114
SUMMARY:Company day off
END:VEVENT
END:VCALENDAR
"""


async def test_ics_import_adds_every_day_and_expands_recurrences(world: World) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    response = await world.client.post(
        "/v1/calendars/holidays",
        content=PRODUCTION_CALENDAR,
        headers={**lead, "content-type": "text/calendar"},
    )
    assert response.status_code == 201
    days = [h["day"] for h in response.json()]
    assert days[:8] == [f"2026-01-0{d}" for d in range(1, 9)]
    assert "2027-02-23" in days


async def test_malformed_ics_is_refused_and_nothing_imported(world: World) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    response = await world.client.post(
        "/v1/calendars/holidays",
        content=b"BEGIN:VCALENDAR\nthis is junk",
        headers={**lead, "content-type": "text/calendar"},
    )
    assert response.status_code == 422
    assert (await world.client.get("/v1/calendars/holidays", headers=lead)).json() == []


async def test_holiday_pushes_the_first_response_deadline(world: World) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    await world.client.post(
        "/v1/calendars/holidays",
        content=PRODUCTION_CALENDAR,
        headers={**lead, "content-type": "text/calendar"},
    )
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, exchange_archive_link=ARCHIVE)
    await upload(world, headers, ticket["id"])
    body = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)).json()
    # Monday 12:00 Moscow + 8h, with Tuesday a day off: Wednesday 11:00 Moscow.
    assert body["clock"]["first_response_due_at"] == "2026-01-14T08:00:00Z"


async def test_a_holiday_can_be_added_and_removed_by_hand(world: World) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    added = await world.client.put(
        "/v1/calendars/holidays/2026-06-12", json={"name": "Russia Day"}, headers=lead
    )
    assert added.json() == [
        {"calendar": "default", "day": "2026-06-12", "name": "Russia Day", "source": "manual"}
    ]
    assert (await world.client.delete("/v1/calendars/holidays/2026-06-12", headers=lead)).status_code == 204
    assert (await world.client.delete("/v1/calendars/holidays/2026-06-12", headers=lead)).status_code == 404


async def test_the_holidays_of_a_published_regulation_are_public(world: World) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    await world.client.post(
        "/v1/calendars/holidays",
        content=PRODUCTION_CALENDAR,
        headers={**lead, "content-type": "text/calendar"},
    )
    regulation = (await world.client.get("/v1/support/regulation")).json()
    response = await world.client.get(
        "/v1/calendars/holidays", params={"calendar": regulation["holiday_calendar"], "year": 2026}
    )
    assert response.status_code == 200
    assert "2026-01-13" in [h["day"] for h in response.json()]


async def test_a_calendar_no_regulation_uses_is_hidden_from_the_public_but_not_from_staff(
    world: World,
) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    await world.client.post(
        "/v1/calendars/holidays",
        params={"calendar": "team-vacations"},
        content=PRODUCTION_CALENDAR,
        headers={**lead, "content-type": "text/calendar"},
    )
    anonymous = await world.client.get("/v1/calendars/holidays", params={"calendar": "team-vacations"})
    assert anonymous.status_code == 404
    assert anonymous.json()["code"] == "not_found"
    staff = await world.client.get(
        "/v1/calendars/holidays", params={"calendar": "team-vacations"}, headers=lead
    )
    assert staff.status_code == 200
    assert staff.json()
