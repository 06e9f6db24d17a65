"""The lifecycle and the regulation clock: who moves what, pauses, first response, breach."""

from __future__ import annotations

from datetime import timedelta

from accounts.roles import Role
from tests.support.helpers import complete_ticket, file_ticket
from tests.world import World


async def _move(
    world: World, ticket_id: str, headers: dict[str, str], to: str, **extra: str
) -> dict[str, object]:
    response = await world.client.post(
        f"/v1/support/tickets/{ticket_id}/transitions", json={"to": to, **extra}, headers=headers
    )
    result: dict[str, object] = {"status_code": response.status_code, **response.json()}
    return result


async def test_first_public_staff_reply_is_the_first_response(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await complete_ticket(world, headers)
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    world.clock.advance(timedelta(hours=2))
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/messages", json={"body": "Looking."}, headers=engineer
    )
    body = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)).json()
    assert body["status"] == "in_progress"
    assert body["clock"]["first_response_business_minutes"] == 120
    assert body["clock"]["breached"] is False


async def test_internal_note_is_not_a_response_and_customers_do_not_see_it(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await complete_ticket(world, headers)
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/messages",
        json={"body": "Customer is grumpy", "internal": True},
        headers=engineer,
    )
    body = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)).json()
    assert body["messages"] == []
    assert body["clock"]["first_responded_at"] is None
    staff_view = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=engineer)).json()
    assert staff_view["messages"][0]["internal"] is True


async def test_no_reply_past_the_deadline_is_breached_without_any_job_running(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await complete_ticket(world, headers)
    world.clock.advance(timedelta(days=1, hours=1))  # Tuesday 13:00 Moscow, due 11:00
    body = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)).json()
    assert body["clock"]["breached"] is True


async def test_requesting_information_pauses_the_clock_until_the_customer_replies(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await complete_ticket(world, headers)
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    moved = await _move(
        world, ticket["id"], engineer, "awaiting_customer", message="Send the server log, please."
    )
    assert moved["status"] == "awaiting_customer"
    assert moved["waiting_reason"] == "info_requested"
    world.clock.advance(timedelta(hours=3))
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/messages", json={"body": "Log attached."}, headers=headers
    )
    body = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)).json()
    assert body["status"] == "in_progress"
    assert body["clock"]["paused_minutes"] == 180


async def test_requesting_information_needs_a_message(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await complete_ticket(world, headers)
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    moved = await _move(world, ticket["id"], engineer, "awaiting_customer")
    assert moved["status_code"] == 422


async def test_customer_cannot_resolve_their_own_ticket_a_role_refusal_is_403(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await complete_ticket(world, headers)
    moved = await _move(world, ticket["id"], headers, "resolved")
    assert moved["status_code"] == 403
    assert moved["code"] == "forbidden"
    shown = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)).json()
    assert shown["status"] == "new"


async def test_transition_that_does_not_exist_lists_the_allowed_ones(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await complete_ticket(world, headers)
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    moved = await _move(world, ticket["id"], engineer, "new")
    assert moved["status_code"] == 409


async def test_resolve_close_and_reopen(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await complete_ticket(world, headers)
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    assert (await _move(world, ticket["id"], engineer, "resolved", message="Fixed in 3.2.1"))[
        "status"
    ] == "resolved"
    assert (await _move(world, ticket["id"], headers, "closed"))["status"] == "closed"
    reopened = await _move(world, ticket["id"], headers, "in_progress", reason="It came back")
    assert reopened["status"] == "in_progress"
    assert reopened["closed_at"] is None


async def test_closed_ticket_refuses_new_messages(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    await _move(world, ticket["id"], headers, "closed")
    response = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/messages", json={"body": "hello?"}, headers=headers
    )
    assert response.status_code == 409
