"""Access preconditions (secrets encrypted, revealed only in the window), invites and feeds."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
import structlog
import vobject

from accounts.roles import Role
from api.logging import configure_logging
from api.settings import Settings
from scheduling.models import Precondition
from tests.scheduling.helpers import booked, mark_paid
from tests.world import World

SECRET = "S3cr3t-AnyDesk-pass!"
ALL_REQUIRED: dict[str, Any] = {
    "remote_tool": "AnyDesk",
    "remote_address": "123 456 789",
    "access_secret": SECRET,
    "admin_present": "Ivan, +7 900 000-00-00",
    "backup_done": True,
}


async def _provide(world: World, booking_id: str, headers: dict[str, str], values: dict[str, Any]) -> Any:
    return await world.client.put(
        f"/v1/bookings/{booking_id}/preconditions", json={"values": values}, headers=headers
    )


async def test_secret_is_stored_encrypted_and_shown_masked(world: World) -> None:
    booking, customer, _, _ = await booked(world)
    response = await _provide(
        world, booking["id"], customer, {"access_secret": SECRET, "remote_tool": "AnyDesk"}
    )
    assert response.status_code == 200
    items = {i["key"]: i for i in response.json()["items"]}
    assert items["access_secret"]["value"] == "••••••"
    assert items["remote_tool"]["value"] == "AnyDesk"
    assert SECRET not in response.text
    async with world.session() as session:
        stored = (await session.scalars(sa.select(Precondition))).all()
    assert all(SECRET not in (p.secret_ciphertext or "") + (p.value or "") for p in stored)


async def test_values_of_the_wrong_kind_are_refused_without_echoing_them(world: World) -> None:
    booking, customer, _, _ = await booked(world)
    response = await _provide(
        world,
        booking["id"],
        customer,
        {"backup_done": "yes", "remote_tool": "Carrier pigeon", "unknown": 1, "access_secret": ""},
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "backup_done",
        "remote_tool",
        "unknown",
        "access_secret",
    }
    missing = (await world.client.get(f"/v1/bookings/{booking['id']}/preconditions", headers=customer)).json()
    assert missing["missing_required"] == [
        "remote_tool",
        "remote_address",
        "access_secret",
        "admin_present",
        "backup_done",
    ]


async def test_paid_booking_becomes_ready_when_every_required_item_is_provided(world: World) -> None:
    booking, customer, _, _ = await booked(world)
    await mark_paid(world, booking["id"])
    response = await _provide(world, booking["id"], customer, ALL_REQUIRED)
    assert response.json()["status"] == "ready"
    assert response.json()["missing_required"] == []


async def test_assigned_engineer_reveals_in_the_window_and_it_is_audited(world: World) -> None:
    booking, customer, engineer, _ = await booked(world)
    await mark_paid(world, booking["id"])
    await _provide(world, booking["id"], customer, ALL_REQUIRED)
    world.clock.current = datetime(2026, 1, 13, 6, 10, tzinfo=UTC)  # 50 minutes before 10:00 Moscow
    response = await world.client.post(
        f"/v1/bookings/{booking['id']}/preconditions/reveal", headers=await world.headers(engineer)
    )
    assert response.json() == {"secrets": {"access_secret": SECRET}}
    _, admin = await world.staff(Role.ADMIN)
    audit = (await world.client.get("/v1/audit?action=precondition_secret_revealed", headers=admin)).json()[
        "items"
    ]
    assert audit[0]["actor_id"] == str(engineer.id)


async def test_the_checklist_shows_the_reveal_window_and_each_reveal_from_the_audit_trail(
    world: World,
) -> None:
    booking, customer, engineer, _ = await booked(world)
    await mark_paid(world, booking["id"])
    await _provide(world, booking["id"], customer, ALL_REQUIRED)
    before = (await world.client.get(f"/v1/bookings/{booking['id']}/preconditions", headers=customer)).json()
    assert (before["reveal_from"], before["reveal_until"], before["reveals"]) == (
        "2026-01-13T06:00:00Z",
        "2026-01-13T08:00:00Z",
        [],
    )
    world.clock.current = datetime(2026, 1, 13, 6, 10, tzinfo=UTC)
    await world.client.post(
        f"/v1/bookings/{booking['id']}/preconditions/reveal", headers=await world.headers(engineer)
    )
    after = (await world.client.get(f"/v1/bookings/{booking['id']}/preconditions", headers=customer)).json()
    assert after["reveals"] == [
        {"occurred_at": "2026-01-13T06:10:00Z", "actor_id": str(engineer.id), "keys": ["access_secret"]}
    ]


async def test_reveal_outside_the_window_is_refused(world: World) -> None:
    booking, customer, engineer, _ = await booked(world)
    await mark_paid(world, booking["id"])
    await _provide(world, booking["id"], customer, ALL_REQUIRED)
    response = await world.client.post(
        f"/v1/bookings/{booking['id']}/preconditions/reveal", headers=await world.headers(engineer)
    )
    assert response.status_code == 403
    assert SECRET not in response.text


async def test_another_engineer_cannot_reveal(world: World) -> None:
    booking, customer, _, _ = await booked(world)
    await mark_paid(world, booking["id"])
    await _provide(world, booking["id"], customer, ALL_REQUIRED)
    world.clock.current = datetime(2026, 1, 13, 6, 30, tzinfo=UTC)
    other = await world.engineer()
    response = await world.client.post(
        f"/v1/bookings/{booking['id']}/preconditions/reveal", headers=await world.headers(other)
    )
    assert response.status_code == 403


async def test_secrets_are_destroyed_after_retention(world: World) -> None:
    booking, customer, _, _ = await booked(world)
    await _provide(world, booking["id"], customer, ALL_REQUIRED)
    world.clock.current = datetime(2026, 1, 25, tzinfo=UTC)  # session ended 12 days ago, retention 7
    items = (await world.client.get(f"/v1/bookings/{booking['id']}/preconditions", headers=customer)).json()[
        "items"
    ]
    secret = next(i for i in items if i["key"] == "access_secret")
    assert secret["destroyed"] is True
    assert secret["value"] is None


async def test_secret_never_reaches_the_logs(
    world: World, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    booking, customer, _, _ = await booked(world)
    configure_logging(settings.model_copy(update={"log_level": "DEBUG"}))
    try:
        await _provide(world, booking["id"], customer, ALL_REQUIRED)
        await _provide(world, booking["id"], customer, {"access_secret": SECRET, "backup_done": "not a bool"})
        output = capsys.readouterr()
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert SECRET not in output.err + output.out


async def test_invite_of_an_unpaid_hold_is_not_available_yet(world: World) -> None:
    booking, customer, _, _ = await booked(world)
    response = await world.client.get(f"/v1/bookings/{booking['id']}/invite.ics", headers=customer)
    assert response.status_code == 409


async def test_invite_is_a_request_with_a_timezone_and_missing_items_and_parses_elsewhere(
    world: World,
) -> None:
    booking, customer, engineer, _ = await booked(world)
    await mark_paid(world, booking["id"])
    response = await world.client.get(f"/v1/bookings/{booking['id']}/invite.ics", headers=customer)
    assert response.headers["content-type"].startswith("text/calendar")
    parsed = vobject.readOne(response.text)
    assert parsed.method.value == "REQUEST"
    assert hasattr(parsed, "vtimezone")
    event = parsed.vevent
    assert event.uid.value == f"booking-{booking['id']}@deskline"
    assert event.sequence.value == "0"
    assert event.dtstart.value == datetime(2026, 1, 13, 7, 0, tzinfo=UTC)
    assert "Access password or key" in event.description.value
    assert SECRET not in response.text
    assert engineer.email in {a.value.removeprefix("mailto:") for a in event.attendee_list}


async def test_cancelled_booking_invite_is_a_cancel_with_a_higher_sequence(world: World) -> None:
    booking, customer, _, _ = await booked(world)
    await mark_paid(world, booking["id"])
    await world.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=customer)
    parsed = vobject.readOne(
        (await world.client.get(f"/v1/bookings/{booking['id']}/invite.ics", headers=customer)).text
    )
    assert parsed.method.value == "CANCEL"
    assert int(parsed.vevent.sequence.value) == 1


async def test_engineer_sees_the_session_in_their_feed_until_it_is_revoked(world: World) -> None:
    booking, _, engineer, _ = await booked(world)
    headers = await world.headers(engineer)
    feed = (await world.client.post("/v1/calendar-feeds", headers=headers)).json()
    path = feed["url"].split("127.0.0.1:8000")[1]
    calendar = vobject.readOne((await world.client.get(path)).text)
    assert [e.uid.value for e in calendar.vevent_list] == [f"booking-{booking['id']}@deskline"]
    await world.client.post(f"/v1/calendar-feeds/{feed['id']}/revoke", headers=headers)
    assert (await world.client.get(path)).status_code == 404


async def test_unknown_feed_token_is_404(world: World) -> None:
    assert (await world.client.get("/v1/calendar-feeds/not-a-token.ics")).status_code == 404
    assert json.loads((await world.client.get("/v1/calendar-feeds/x.txt")).text)["status"] == 404


async def test_a_longer_feed_costs_no_more_statements(world: World) -> None:
    first, customer, _, service = await booked(world)
    feed = (await world.client.post("/v1/calendar-feeds", headers=customer)).json()
    path = feed["url"].split("127.0.0.1:8000")[1]
    with world.counted_statements() as short:
        assert len(vobject.readOne((await world.client.get(path)).text).vevent_list) == 1
    for starts_at in ("2026-01-13T12:00:00+03:00", "2026-01-13T14:00:00+03:00", "2026-01-14T10:00:00+03:00"):
        response = await world.client.post(
            "/v1/bookings",
            json={"service_id": str(service.id), "starts_at": starts_at, "time_zone": "Europe/Moscow"},
            headers=customer,
        )
        assert response.status_code == 201, response.text
    await _provide(world, first["id"], customer, ALL_REQUIRED)
    with world.counted_statements() as long:
        calendar = vobject.readOne((await world.client.get(path)).text)
    assert len(calendar.vevent_list) == 4
    assert len(long) == len(short)
