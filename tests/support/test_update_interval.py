"""After the first response, support owes the customer an update within the regulation's interval."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from accounts.roles import Role
from tests.support.helpers import complete_ticket
from tests.world import World

# The default regulation: Mon-Fri 09:00-18:00 Europe/Moscow, an update every 16 business hours.
# The test clock starts on Monday 2026-01-12 at 09:00 UTC, 12:00 in Moscow.
SIXTEEN_BUSINESS_HOURS_AFTER_MONDAY_NOON = "2026-01-14T07:00:00+00:00"  # Wednesday 10:00 Moscow


async def _reply(world: World, headers: dict[str, str], ticket_id: str, **extra: Any) -> None:
    body = {"body": "We are on it.", **extra}
    response = await world.client.post(
        f"/v1/support/tickets/{ticket_id}/messages", json=body, headers=headers
    )
    assert response.status_code == 201, response.text


async def _move(
    world: World, headers: dict[str, str], ticket_id: str, to: str, **extra: str
) -> dict[str, Any]:
    url = f"/v1/support/tickets/{ticket_id}/transitions"
    response = await world.client.post(url, json={"to": to, **extra}, headers=headers)
    assert response.status_code == 200, response.text
    moved: dict[str, Any] = response.json()
    return moved


async def _clock(world: World, headers: dict[str, str], ticket_id: str) -> dict[str, Any]:
    clock: dict[str, Any] = (
        await world.client.get(f"/v1/support/tickets/{ticket_id}", headers=headers)
    ).json()["clock"]
    return clock


def _at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def test_no_update_is_due_before_the_first_response(world: World) -> None:
    _, _, customer = await world.contact()
    ticket = await complete_ticket(world, customer)
    assert ticket["clock"]["next_update_due_at"] is None
    assert ticket["clock"]["update_overdue"] is False


async def test_the_next_update_is_due_one_interval_of_business_time_after_a_staff_reply(world: World) -> None:
    _, _, customer = await world.contact()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    ticket = await complete_ticket(world, customer)
    await _reply(world, engineer, ticket["id"])
    clock = await _clock(world, customer, ticket["id"])
    assert _at(clock["next_update_due_at"]) == _at(SIXTEEN_BUSINESS_HOURS_AFTER_MONDAY_NOON)
    assert clock["update_overdue"] is False


async def test_a_later_public_reply_moves_the_due_time_and_an_internal_note_does_not(world: World) -> None:
    _, _, customer = await world.contact()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    ticket = await complete_ticket(world, customer)
    await _reply(world, engineer, ticket["id"])
    world.clock.advance(timedelta(hours=2))
    await _reply(world, engineer, ticket["id"], internal=True)
    assert _at((await _clock(world, customer, ticket["id"]))["next_update_due_at"]) == _at(
        SIXTEEN_BUSINESS_HOURS_AFTER_MONDAY_NOON
    )
    await _reply(world, engineer, ticket["id"])
    moved = _at((await _clock(world, customer, ticket["id"]))["next_update_due_at"])
    assert moved == _at("2026-01-14T09:00:00+00:00")  # two business hours later


async def test_an_update_not_given_in_time_is_overdue(world: World) -> None:
    _, _, customer = await world.contact()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    ticket = await complete_ticket(world, customer)
    await _reply(world, engineer, ticket["id"])
    world.clock.advance(timedelta(days=2, hours=1))  # Wednesday 13:00 Moscow
    assert (await _clock(world, customer, ticket["id"]))["update_overdue"] is True


async def test_no_update_is_owed_while_waiting_for_the_customer_and_it_counts_again_from_their_answer(
    world: World,
) -> None:
    _, _, customer = await world.contact()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    ticket = await complete_ticket(world, customer)
    await _reply(world, engineer, ticket["id"])
    await _move(world, engineer, ticket["id"], "awaiting_customer", message="Which server version?")
    assert (await _clock(world, customer, ticket["id"]))["next_update_due_at"] is None
    world.clock.advance(timedelta(days=1))  # Tuesday 12:00 Moscow
    await _reply(world, customer, ticket["id"], body="Version 3.2")
    due = _at((await _clock(world, customer, ticket["id"]))["next_update_due_at"])
    assert due == _at("2026-01-15T07:00:00+00:00")  # Thursday 10:00 Moscow


async def test_no_update_is_owed_on_a_resolved_ticket(world: World) -> None:
    _, _, customer = await world.contact()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    ticket = await complete_ticket(world, customer)
    await _reply(world, engineer, ticket["id"])
    await _move(world, engineer, ticket["id"], "resolved", message="Fixed by the update.")
    assert (await _clock(world, customer, ticket["id"]))["next_update_due_at"] is None


async def test_a_reopened_ticket_owes_an_update_counted_from_the_reopening(world: World) -> None:
    _, _, customer = await world.contact()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    ticket = await complete_ticket(world, customer)
    await _reply(world, engineer, ticket["id"])
    url = f"/v1/support/tickets/{ticket['id']}/transitions"
    resolved = await world.client.post(url, json={"to": "resolved", "message": "Fixed."}, headers=engineer)
    assert resolved.status_code == 200, resolved.text
    world.clock.advance(timedelta(days=3))  # Thursday 12:00 Moscow
    reopened = await world.client.post(
        url, json={"to": "in_progress", "reason": "It came back"}, headers=customer
    )
    assert reopened.status_code == 200, reopened.text
    due = _at(reopened.json()["clock"]["next_update_due_at"])
    assert due == _at("2026-01-19T07:00:00+00:00")  # Monday 10:00 Moscow
