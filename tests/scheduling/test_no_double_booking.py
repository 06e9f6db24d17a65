"""No double booking under real concurrency: 50 requests for one slot of one engineer, over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import sqlalchemy as sa
import uvicorn
from sqlmodel import col

from accounts.roles import Role
from api.app import create_app
from api.settings import Settings
from scheduling.models import ACTIVE_BOOKING_STATES, Booking
from tests.world import World

RACERS = 50


@asynccontextmanager
async def served(settings: Settings, world: World) -> AsyncIterator[str]:
    """The app on a real loopback socket, so requests truly run at the same time."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, clock=world.clock, configure_logs=False),
            host="127.0.0.1",
            port=0,
            log_config=None,
            access_log=False,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_fifty_concurrent_holds_on_one_slot_give_exactly_one_booking(
    world: World, settings: Settings
) -> None:
    await world.engineer()
    service = await world.service()
    customers = []
    for _ in range(RACERS):
        org = await world.organization()
        customers.append(await world.headers(await world.user(Role.CUSTOMER_USER, org)))
    body = {
        "service_id": str(service.id),
        "starts_at": "2026-01-13T10:00:00+03:00",
        "time_zone": "Europe/Moscow",
    }
    async with (
        served(settings, world) as base,
        httpx.AsyncClient(base_url=base, timeout=120, limits=httpx.Limits(max_connections=RACERS)) as client,
    ):
        responses = await asyncio.gather(
            *(client.post("/v1/bookings", json=body, headers=h) for h in customers)
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (RACERS - 1)
    refused = [r.json() for r in responses if r.status_code == 409]
    assert {p["code"] for p in refused} == {"slot_taken"}
    assert all(p["next_free_slots"] for p in refused)
    async with world.session() as session:
        active = await session.scalar(
            sa.select(sa.func.count()).where(
                col(Booking.service_id) == service.id, col(Booking.status).in_(ACTIVE_BOOKING_STATES)
            )
        )
    assert active == 1
