"""The ticket list: every summary carries its clock and missing items, at a cost that does not grow
with the page."""

from __future__ import annotations

from accounts.roles import Role
from tests.support.helpers import complete_ticket, file_ticket
from tests.world import World


async def _statements_for_the_list(world: World, headers: dict[str, str]) -> int:
    with world.counted_statements() as seen:
        response = await world.client.get("/v1/support/tickets", headers=headers)
    assert response.status_code == 200
    return len(seen)


async def test_each_summary_shows_its_own_clock_and_missing_items(world: World) -> None:
    _, _, customer = await world.contact()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    waiting = await file_ticket(world, customer)
    answered = await complete_ticket(world, customer)
    await world.client.post(
        f"/v1/support/tickets/{answered['id']}/messages", json={"body": "On it."}, headers=engineer
    )
    paused = await complete_ticket(world, customer)
    await world.client.post(
        f"/v1/support/tickets/{paused['id']}/transitions",
        json={"to": "awaiting_customer", "message": "Which version?"},
        headers=engineer,
    )
    items = {
        t["id"]: t for t in (await world.client.get("/v1/support/tickets", headers=customer)).json()["items"]
    }
    for ticket in (waiting, answered, paused):
        detail = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=customer)).json()
        assert items[ticket["id"]]["missing"] == detail["missing"]
        assert items[ticket["id"]]["clock"] == detail["clock"]
    assert items[waiting["id"]]["missing"] == ["device_database", "exchange_archive_link"]
    assert items[answered["id"]]["clock"]["next_update_due_at"] is not None
    assert items[paused["id"]]["status"] == "awaiting_customer"


async def test_a_longer_page_costs_no_more_statements(world: World) -> None:
    _, _, customer = await world.contact()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    for _ in range(2):
        ticket = await complete_ticket(world, customer)
        await world.client.post(
            f"/v1/support/tickets/{ticket['id']}/messages", json={"body": "Hi"}, headers=engineer
        )
    await file_ticket(world, customer)
    short = await _statements_for_the_list(world, engineer)
    for _ in range(3):
        ticket = await complete_ticket(world, customer)
        await world.client.post(
            f"/v1/support/tickets/{ticket['id']}/messages", json={"body": "Hi"}, headers=engineer
        )
        await file_ticket(world, customer)
    assert await _statements_for_the_list(world, engineer) == short
