"""The published regulation and the public statistics it is measured by."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from accounts.roles import Role
from support.models import RegulationVersion
from support.regulation import DEFAULT_REGULATION_ID
from tests.support.helpers import complete_ticket, file_ticket
from tests.world import World

REGULATION = {
    "time_zone": "Asia/Yekaterinburg",
    "weekly_hours": {str(d): [["08:00", "12:00"], ["13:00", "17:00"]] for d in range(5)},
    "first_response_minutes": 240,
    "update_interval_minutes": 480,
    "required_items": ["device_database"],
}


async def test_regulation_is_public_and_starts_with_the_default(world: World) -> None:
    body = (await world.client.get("/v1/support/regulation")).json()
    assert body["version"] == 1
    assert body["first_response_minutes"] == 480
    assert body["required_items"] == ["device_database", "exchange_archive_link"]


async def test_lead_publishes_a_new_version_and_old_tickets_keep_theirs(world: World) -> None:
    _, _, headers = await world.contact()
    old = await file_ticket(world, headers)
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    published = await world.client.post("/v1/support/regulation", json=REGULATION, headers=lead)
    assert published.json()["version"] == 2
    new = await file_ticket(world, headers)
    assert old["regulation_version"] == 1
    assert new["regulation_version"] == 2
    assert new["missing"] == ["device_database"]


async def test_regulation_with_an_unknown_intake_item_is_refused(world: World) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    response = await world.client.post(
        "/v1/support/regulation", json={**REGULATION, "required_items": ["photo_of_cat"]}, headers=lead
    )
    assert response.status_code == 422
    assert (await world.client.get("/v1/support/regulation")).json()["version"] == 1


async def test_stats_count_answered_within_and_percentiles_per_month(world: World) -> None:
    _, _, headers = await world.contact()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    for delay in (60, 120, 600):  # business minutes until the reply; 600 > 480 is late
        ticket = await complete_ticket(world, headers)
        world.clock.advance(timedelta(minutes=delay) if delay < 360 else timedelta(days=1, hours=1))
        await world.client.post(
            f"/v1/support/tickets/{ticket['id']}/messages", json={"body": "hi"}, headers=engineer
        )
        world.clock.current = world.clock.current.replace(day=12, hour=9, minute=0)
    stats = (await world.client.get("/v1/support/stats", params={"from": "2026-01", "to": "2026-01"})).json()
    month = stats["months"][0]
    assert month["month"] == "2026-01"
    assert month["tickets"] == 3
    assert month["answered_within_regulation"] == 2
    assert month["median_first_response_minutes"] == 120
    assert month["p90_first_response_minutes"] == 600
    assert month["paused_for_missing_information_share"] == 0.0


async def test_stats_reject_a_range_backwards(world: World) -> None:
    response = await world.client.get("/v1/support/stats", params={"from": "2026-05", "to": "2026-01"})
    assert response.status_code == 422


async def test_stats_reject_a_malformed_month(world: World) -> None:
    response = await world.client.get("/v1/support/stats", params={"from": "2026-13"})
    assert response.status_code in {400, 422}


async def test_tickets_still_inside_their_deadline_are_pending_not_failures(world: World) -> None:
    _, _, headers = await world.contact()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    answered = await complete_ticket(world, headers)
    await complete_ticket(world, headers)
    await complete_ticket(world, headers)
    world.clock.advance(timedelta(minutes=30))
    await world.client.post(
        f"/v1/support/tickets/{answered['id']}/messages", json={"body": "hi"}, headers=engineer
    )
    month = (await world.client.get("/v1/support/stats", params={"from": "2026-01", "to": "2026-01"})).json()[
        "months"
    ][0]
    assert (month["tickets"], month["decided"], month["pending"]) == (3, 1, 2)
    assert month["answered_within_regulation_share"] == 1.0

    world.clock.advance(timedelta(days=3))  # the two unanswered ones are late now
    month = (await world.client.get("/v1/support/stats", params={"from": "2026-01", "to": "2026-01"})).json()[
        "months"
    ][0]
    assert (month["decided"], month["pending"]) == (3, 0)
    assert month["answered_within_regulation_share"] == round(1 / 3, 4)


async def test_reading_the_default_regulation_writes_nothing_until_a_ticket_needs_it(world: World) -> None:
    shown = (await world.client.get("/v1/support/regulation")).json()
    async with world.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(RegulationVersion)) == 0
    _, _, headers = await world.contact()
    await file_ticket(world, headers)
    async with world.session() as session:
        stored = (await session.scalars(sa.select(RegulationVersion))).one()
    assert (stored.id, stored.version, stored.first_response_minutes) == (
        DEFAULT_REGULATION_ID,
        shown["version"],
        shown["first_response_minutes"],
    )


async def test_every_published_version_is_listed_newest_first_for_anyone(world: World) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    first = (await world.client.post("/v1/support/regulation", json=REGULATION, headers=lead)).json()
    world.clock.advance(timedelta(days=1))
    changed = {**REGULATION, "first_response_minutes": 120}
    second = (await world.client.post("/v1/support/regulation", json=changed, headers=lead)).json()
    listed = (await world.client.get("/v1/support/regulation/versions")).json()  # no token: it is public
    assert [v["version"] for v in listed["items"]][:2] == [second["version"], first["version"]]
    assert listed["items"][0]["first_response_minutes"] == 120
