"""Explanation requests: only after the first-response deadline passed unanswered."""

from __future__ import annotations

from datetime import timedelta

from accounts.roles import Role
from tests.support.helpers import complete_ticket, file_ticket
from tests.world import World


async def test_request_before_the_deadline_is_refused_with_the_due_time(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await complete_ticket(world, headers)
    response = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/explanation-requests",
        json={"reason": "Why so slow?"},
        headers=headers,
    )
    assert response.status_code == 409
    assert response.json()["code"] == "explanation_too_early"
    assert response.json()["first_response_due_at"] == "2026-01-13T08:00:00+00:00"


async def test_request_after_an_unanswered_deadline_is_accepted_and_shown_to_the_lead(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await complete_ticket(world, headers)
    world.clock.advance(timedelta(days=2))
    response = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/explanation-requests",
        json={"reason": "No answer for two days"},
        headers=headers,
    )
    assert response.status_code == 201
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    listed = (await world.client.get("/v1/support/explanation-requests", headers=lead)).json()["items"]
    assert listed[0]["ticket_id"] == ticket["id"]
    timeline = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=lead)).json()[
        "timeline"
    ]
    assert "explanation_requested" in [e["kind"] for e in timeline]


async def test_request_when_support_answered_in_time_is_refused(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await complete_ticket(world, headers)
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/messages", json={"body": "On it"}, headers=engineer
    )
    world.clock.advance(timedelta(days=3))
    response = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/explanation-requests", json={"reason": "?"}, headers=headers
    )
    assert response.status_code == 409


async def test_request_on_an_incomplete_intake_is_refused(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    world.clock.advance(timedelta(days=5))
    response = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/explanation-requests", json={"reason": "?"}, headers=headers
    )
    assert response.status_code == 409
