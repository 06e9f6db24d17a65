"""Small builders for support tests."""

from __future__ import annotations

from typing import Any

from tests.world import World

ARCHIVE = "https://files.example.com/exchange/romashka-2026-01.zip"


def intake(**overrides: Any) -> dict[str, Any]:  # Any: JSON values
    body: dict[str, Any] = {
        "project_name": "Warehouse terminals",
        "description": "Terminals stop synchronising after the update; the exchange directory fills up.",
        "affected_applications": "Mobile Server, Warehouse app 3.2",
        "steps_to_reproduce": "1. Update the server 2. Start a terminal 3. Sync fails with code 17",
        "impact": "Picking is done on paper",
        "affected_employees": 40,
    }
    body.update(overrides)
    return body


async def file_ticket(world: World, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await world.client.post("/v1/support/tickets", json=intake(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def upload(
    world: World,
    headers: dict[str, str],
    ticket_id: str,
    *,
    content: bytes = b"SQLite format 3\x00...",
    filename: str = "devices.db",
    kind: str = "device_database",
) -> Any:  # Any: the httpx response
    return await world.client.post(
        f"/v1/support/tickets/{ticket_id}/attachments",
        files={"file": (filename, content, "application/octet-stream")},
        data={"kind": kind},
        headers=headers,
    )


async def complete_ticket(world: World, headers: dict[str, str]) -> dict[str, Any]:
    """A ticket whose intake is complete: the clock runs from now."""
    ticket = await file_ticket(world, headers, exchange_archive_link=ARCHIVE)
    response = await upload(world, headers, ticket["id"])
    assert response.status_code == 201, response.text
    refreshed = await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)
    body: dict[str, Any] = refreshed.json()
    assert body["status"] == "new"
    return body
