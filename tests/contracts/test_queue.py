"""The staff queue: open tickets of both lines in one list, what falls due first first, each with its
live timers (due, paused while awaiting the customer, breached and by how much) and the intake items it
lacks; who works each ticket; and the event stream that tells a console the queue changed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn
from sqlmodel import col

from accounts.roles import Role
from support.models import Ticket, TicketEvent
from tests.contracts.helpers import active_contract, complete_terms
from tests.contracts.test_sla_tickets import IN_FORCE, SUBJECT
from tests.harness import free_port
from tests.support.helpers import complete_ticket, file_ticket
from tests.world import World


async def _sla_ticket(world: World, priority: str = "P1") -> dict[str, Any]:
    organization = await world.organization()
    customer = await world.user(Role.CUSTOMER_USER, organization)
    contract = await active_contract(world, organization, terms=complete_terms(), **IN_FORCE)
    response = await world.client.post(
        f"/v1/contracts/{contract['id']}/tickets",
        json={"priority": priority, **SUBJECT},
        headers=await world.headers(customer),
    )
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def _queue(world: World, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    response = await world.client.get(f"/v1/queue{query}", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_the_queue_lists_both_lines_by_what_falls_due_first(world: World) -> None:
    _, _, contact = await world.contact()
    free = await complete_ticket(world, contact)  # first response due under the regulation (hours)
    sla = await _sla_ticket(world)  # P1: first response due in 30 business minutes
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    items = await _queue(world, engineer)
    assert [i["id"] for i in items] == [sla["id"], free["id"]]
    first = items[0]
    assert (first["line"], first["number"], first["priority"]) == ("sla", "SLA-1001", "P1")
    assert (first["next_due_timer"], first["next_due_at"]) == ("first_response", "2026-01-12T09:30:00Z")
    assert [t["name"] for t in first["timers"]] == ["first_response", "update", "resolution"]
    assert (items[1]["line"], items[1]["next_due_at"]) == ("basic", free["clock"]["first_response_due_at"])


async def test_a_free_ticket_shows_the_intake_items_it_lacks_and_no_due_time(world: World) -> None:
    _, _, contact = await world.contact()
    ticket = await file_ticket(world, contact)  # no device database yet: the clock has not started
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    [item] = await _queue(world, engineer)
    assert item["id"] == ticket["id"]
    assert item["missing"] == ticket["missing"] != []
    assert item["next_due_at"] is None


async def test_a_ticket_awaiting_the_customer_is_paused_and_falls_behind_the_running_ones(
    world: World,
) -> None:
    paused, running = await _sla_ticket(world), await _sla_ticket(world, "P2")
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    path = f"/v1/contracts/{paused['contract_id']}/tickets/{paused['id']}"
    asked = await world.client.post(
        f"{path}/transitions",
        json={"to": "awaiting_customer", "message": "Which version runs on the terminals?"},
        headers={**engineer, "If-Match": f'"{paused["revision"]}"'},
    )
    assert asked.status_code == 200, asked.text
    items = await _queue(world, engineer)
    assert [i["id"] for i in items] == [running["id"], paused["id"]]
    assert items[1]["paused"] is True
    resolution = next(t for t in items[1]["timers"] if t["name"] == "resolution")
    assert (resolution["paused"], resolution["due_at"]) == (True, None)


async def test_a_ticket_past_its_first_response_target_shows_the_overrun(world: World) -> None:
    late = await _sla_ticket(world)
    world.clock.advance(timedelta(minutes=45))  # due 30 business minutes after filing: 15 minutes late
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    [item] = await _queue(world, engineer, "?breached=true")
    assert item["id"] == late["id"]
    assert (item["breached"], item["breach_minutes"]) == (True, 15)
    first = next(t for t in item["timers"] if t["name"] == "first_response")
    assert (first["breached"], first["breach_minutes"]) == (True, 15)
    assert await _queue(world, engineer, "?breached=false") == []


async def test_the_queue_filters_by_line_priority_and_organisation(world: World) -> None:
    _, _, contact = await world.contact()
    free = await complete_ticket(world, contact)
    p1, p2 = await _sla_ticket(world), await _sla_ticket(world, "P2")
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    assert [i["id"] for i in await _queue(world, engineer, "?line=basic")] == [free["id"]]
    assert [i["id"] for i in await _queue(world, engineer, "?priority=P2")] == [p2["id"]]
    only = await _queue(world, engineer, f"?organization_id={p1['organization_id']}")
    assert [i["id"] for i in only] == [p1["id"]]


async def test_the_queue_pages_with_its_cursor(world: World) -> None:
    tickets = [await _sla_ticket(world) for _ in range(3)]
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    first = (await world.client.get("/v1/queue?limit=2", headers=engineer)).json()
    rest = (
        await world.client.get(f"/v1/queue?limit=2&cursor={first['next_cursor']}", headers=engineer)
    ).json()
    seen = [i["id"] for i in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(t["id"] for t in tickets)
    assert rest["next_cursor"] is None


async def test_a_cursor_the_queue_did_not_hand_out_is_a_problem(world: World) -> None:
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    response = await world.client.get("/v1/queue?cursor=bm9wZQ", headers=engineer)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_customers_and_sales_are_refused_the_queue(world: World) -> None:
    await _sla_ticket(world)
    _, _, contact = await world.contact()
    _, sales = await world.staff(Role.SALES)
    for headers in (contact, sales):
        response = await world.client.get("/v1/queue", headers=headers)
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        assert "items" not in response.json()


async def test_an_engineer_takes_a_ticket_and_finds_it_under_assigned_to_me(world: World) -> None:
    ticket = await _sla_ticket(world)
    await _sla_ticket(world)
    me, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    world.clock.advance(timedelta(seconds=1))
    taken = await world.client.put(
        f"/v1/queue/{ticket['id']}/assignee", json={"assignee_id": str(me.id)}, headers=engineer
    )
    assert taken.status_code == 200, taken.text
    [mine] = await _queue(world, engineer, "?assigned_to_me=true")
    assert (mine["id"], mine["assignee_id"], mine["assignee_name"]) == (
        ticket["id"],
        str(me.id),
        me.full_name,
    )
    assert [i["id"] for i in await _queue(world, engineer, "?unassigned=true")] != [ticket["id"]]
    async with world.session() as session:
        stored = await session.get(Ticket, uuid.UUID(ticket["id"]))
        kinds = (
            await session.scalars(
                sa.select(col(TicketEvent.kind)).where(col(TicketEvent.ticket_id) == uuid.UUID(ticket["id"]))
            )
        ).all()
    assert stored is not None
    assert stored.assignee_id == me.id
    assert "assigned" in kinds


async def test_an_engineer_cannot_give_a_ticket_to_a_colleague(world: World) -> None:
    ticket = await _sla_ticket(world)
    colleague, _ = await world.staff(Role.SUPPORT_ENGINEER)
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    response = await world.client.put(
        f"/v1/queue/{ticket['id']}/assignee", json={"assignee_id": str(colleague.id)}, headers=engineer
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    async with world.session() as session:
        stored = await session.get(Ticket, uuid.UUID(ticket["id"]))
    assert stored is not None
    assert stored.assignee_id is None


async def test_a_ticket_is_given_only_to_active_support_staff(world: World) -> None:
    ticket = await _sla_ticket(world)
    customer = await world.user(Role.CUSTOMER_USER, await world.organization())
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    response = await world.client.put(
        f"/v1/queue/{ticket['id']}/assignee", json={"assignee_id": str(customer.id)}, headers=lead
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("assignee_id", "unknown_reference")
    async with world.session() as session:
        stored = await session.get(Ticket, uuid.UUID(ticket["id"]))
    assert stored is not None
    assert stored.assignee_id is None


async def test_the_event_stream_announces_a_filed_ticket(world: World) -> None:
    """Over a real HTTP connection (uvicorn): the stream stays open and says 'queue' once one is filed."""
    ctx = world.app.state.ctx
    ctx.settings = ctx.settings.model_copy(update={"queue_poll_seconds": 0.05, "queue_stream_seconds": 20})
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(world.app, host="127.0.0.1", port=port, log_config=None))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.01)
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
            http.stream("GET", "/v1/queue/events", headers=engineer) as stream,
        ):
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            assert (await anext(lines)).startswith(":")  # the stream is open before anything changes
            world.clock.advance(timedelta(seconds=1))
            ticket = await _sla_ticket(world)
            seen = []
            async with asyncio.timeout(5):
                async for line in lines:
                    seen.append(line)
                    if line == "event: queue":
                        break
    finally:
        server.should_exit = True
        await serving
    assert "event: queue" in seen
    assert not any(ticket["id"] in line for line in seen)  # it says the queue changed; the queue is read


async def test_a_customer_cannot_watch_the_queue(world: World) -> None:
    _, _, contact = await world.contact()
    response = await world.client.get("/v1/queue/events", headers=contact)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_the_queue_costs_the_same_number_of_queries_however_many_tickets_it_shows(world: World) -> None:
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    await _sla_ticket(world)
    _, _, contact = await world.contact()
    await complete_ticket(world, contact)
    with world.counted_statements() as few:
        assert len(await _queue(world, engineer)) == 2
    for _ in range(3):
        await _sla_ticket(world, "P3")
        await complete_ticket(world, contact)
    with world.counted_statements() as many:
        assert len(await _queue(world, engineer)) == 8
    assert len(many) == len(few)
