"""The service catalog and engineers' calendars."""

from __future__ import annotations

from accounts.roles import Role
from tests.world import World

WEEKLY_STANDUP = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//busy//EN
BEGIN:VEVENT
UID:standup@test
DTSTART;TZID=Europe/Moscow:20260105T100000
DTEND;TZID=Europe/Moscow:20260105T110000
RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR
SUMMARY:Stand-up
END:VEVENT
BEGIN:VEVENT
UID:lunch@test
DTSTART;TZID=Europe/Moscow:20260113T130000
DTEND;TZID=Europe/Moscow:20260113T140000
TRANSP:TRANSPARENT
SUMMARY:Lunch (free)
END:VEVENT
END:VCALENDAR
"""


async def test_sales_defines_a_service_with_the_default_checklist(world: World) -> None:
    _, sales = await world.staff(Role.SALES)
    response = await world.client.post(
        "/v1/services",
        json={
            "name": "Emergency connection",
            "duration_minutes": 90,
            "price_minor": 1_200_000,
            "currency": "RUB",
        },
        headers=sales,
    )
    assert response.status_code == 201
    keys = [item["key"] for item in response.json()["checklist"]]
    assert keys[:3] == ["remote_tool", "remote_address", "access_secret"]
    assert (await world.client.get("/v1/services")).json()[0]["name"] == "Emergency connection"


async def test_checklist_choice_without_choices_is_refused(world: World) -> None:
    _, sales = await world.staff(Role.SALES)
    response = await world.client.post(
        "/v1/services",
        json={
            "name": "X",
            "duration_minutes": 60,
            "price_minor": 1,
            "currency": "RUB",
            "checklist": [{"key": "tool", "label_en": "Tool", "label_ru": "Средство", "kind": "choice"}],
        },
        headers=sales,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "checklist.tool"


async def test_negative_price_is_refused(world: World) -> None:
    _, sales = await world.staff(Role.SALES)
    response = await world.client.post(
        "/v1/services",
        json={"name": "X", "duration_minutes": 60, "price_minor": -1, "currency": "RUB"},
        headers=sales,
    )
    assert response.status_code == 422


async def test_engineer_sets_their_own_working_hours(world: World) -> None:
    engineer = await world.user(Role.SUPPORT_ENGINEER)
    response = await world.client.put(
        f"/v1/engineers/{engineer.id}/working-hours",
        json={
            "time_zone": "Asia/Novosibirsk",
            "weekly_hours": {"0": [["08:00", "12:00"], ["13:00", "17:00"]]},
            "skills": ["sql", "exchange"],
        },
        headers=await world.headers(engineer),
    )
    assert response.status_code == 200
    assert response.json()["skills"] == ["exchange", "sql"]


async def test_engineer_cannot_change_a_colleagues_hours(world: World) -> None:
    engineer, colleague = await world.user(Role.SUPPORT_ENGINEER), await world.user(Role.SUPPORT_ENGINEER)
    response = await world.client.put(
        f"/v1/engineers/{colleague.id}/working-hours",
        json={"time_zone": "Europe/Moscow", "weekly_hours": {"0": [["09:00", "18:00"]]}},
        headers=await world.headers(engineer),
    )
    assert response.status_code == 403


async def test_unknown_zone_and_overlapping_hours_are_refused(world: World) -> None:
    engineer = await world.user(Role.SUPPORT_ENGINEER)
    response = await world.client.put(
        f"/v1/engineers/{engineer.id}/working-hours",
        json={"time_zone": "Mars/Base", "weekly_hours": {"0": [["09:00", "12:00"], ["11:00", "13:00"]]}},
        headers=await world.headers(engineer),
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"time_zone", "weekly_hours"}


async def test_busy_ics_import_expands_recurrences_and_skips_transparent_events(world: World) -> None:
    engineer = await world.engineer()
    response = await world.client.post(
        f"/v1/engineers/{engineer.id}/busy-calendars?name=outlook",
        content=WEEKLY_STANDUP,
        headers={**await world.headers(engineer), "content-type": "text/calendar"},
    )
    assert response.status_code == 201
    # Stand-ups every weekday from a day before now to 400 days ahead; the transparent lunch is free time.
    assert 280 <= response.json()["interval_count"] <= 290


async def test_reimporting_a_source_replaces_its_busy_time(world: World) -> None:
    engineer = await world.engineer()
    headers = {**await world.headers(engineer), "content-type": "text/calendar"}
    url = f"/v1/engineers/{engineer.id}/busy-calendars?name=outlook"
    await world.client.post(url, content=WEEKLY_STANDUP, headers=headers)
    single = WEEKLY_STANDUP.replace(b"RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\n", b"").replace(
        b"20260105", b"20260114"
    )
    await world.client.post(url, content=single, headers=headers)
    sources = (await world.client.get(f"/v1/engineers/{engineer.id}/busy-calendars", headers=headers)).json()
    assert [(s["name"], s["interval_count"]) for s in sources] == [("outlook", 1)]


async def test_malformed_ics_is_refused(world: World) -> None:
    engineer = await world.engineer()
    response = await world.client.post(
        f"/v1/engineers/{engineer.id}/busy-calendars",
        content=b"BEGIN:VCALENDAR\ngarbage",
        headers={**await world.headers(engineer), "content-type": "text/calendar"},
    )
    assert response.status_code == 422


async def test_oversized_ics_upload_is_refused_with_413(world: World) -> None:
    engineer = await world.engineer()
    response = await world.client.post(
        f"/v1/engineers/{engineer.id}/busy-calendars",
        content=b"X" * (5 * 1024 * 1024 + 1),
        headers={**await world.headers(engineer), "content-type": "text/calendar"},
    )
    assert response.status_code == 413
    sources = await world.client.get(
        f"/v1/engineers/{engineer.id}/busy-calendars", headers=await world.headers(engineer)
    )
    assert sources.json() == []
