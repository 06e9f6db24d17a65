"""Completing the intake later, and declaring an item impossible to provide."""

from __future__ import annotations

from accounts.roles import Role
from tests.support.helpers import ARCHIVE, file_ticket, upload
from tests.world import World


async def test_adding_the_archive_link_later_completes_the_intake(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    await upload(world, headers, ticket["id"])
    response = await world.client.patch(
        f"/v1/support/tickets/{ticket['id']}", json={"exchange_archive_link": ARCHIVE}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["status"] == "new"


async def test_declaring_an_item_unavailable_keeps_the_ticket_waiting_for_staff(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, exchange_archive_link=ARCHIVE)
    response = await world.client.patch(
        f"/v1/support/tickets/{ticket['id']}",
        json={"unavailable_items": {"device_database": "The server disk died; no copy exists."}},
        headers=headers,
    )
    body = response.json()
    assert body["status"] == "awaiting_customer"
    assert body["unavailable_items"] == {"device_database": "The server disk died; no copy exists."}


async def test_staff_accept_an_incomplete_intake_and_the_clock_starts(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, exchange_archive_link=ARCHIVE)
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    response = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/transitions",
        json={"to": "new", "reason": "The database is lost; we work from the logs."},
        headers=engineer,
    )
    body = response.json()
    assert body["status"] == "new"
    assert body["clock"]["running"] is True
    assert body["missing"] == []
    accepted = next(e for e in body["timeline"] if e["kind"] == "intake_completed")
    assert accepted["data"]["accepted_missing"] == ["device_database"]


async def test_declaring_a_provided_item_unavailable_is_refused(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, exchange_archive_link=ARCHIVE)
    response = await world.client.patch(
        f"/v1/support/tickets/{ticket['id']}",
        json={"unavailable_items": {"exchange_archive_link": "n/a"}},
        headers=headers,
    )
    assert response.status_code == 422


async def test_stale_if_match_is_refused_with_412_and_nothing_changes(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    stale = f'"{ticket["revision"]}"'
    await world.client.patch(
        f"/v1/support/tickets/{ticket['id']}", json={"author_phone": "+7 900 1"}, headers=headers
    )
    response = await world.client.patch(
        f"/v1/support/tickets/{ticket['id']}",
        json={"exchange_archive_link": ARCHIVE},
        headers={**headers, "If-Match": stale},
    )
    assert response.status_code == 412
    body = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)).json()
    assert body["exchange_archive_link"] is None


async def test_current_etag_is_accepted(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    current = await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)
    response = await world.client.patch(
        f"/v1/support/tickets/{ticket['id']}",
        json={"exchange_archive_link": ARCHIVE},
        headers={**headers, "If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200
    assert response.headers["etag"] != current.headers["etag"]
