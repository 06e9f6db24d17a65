"""Builders for booking tests."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from accounts.models import User
from accounts.roles import Role
from scheduling.models import Booking, BookingStatus, Service
from tests.world import World

TUESDAY_10 = "2026-01-13T10:00:00+03:00"


async def booked(
    world: World, *, starts_at: str = TUESDAY_10, **service: Any
) -> tuple[dict[str, Any], dict[str, str], User, Service]:
    """A held booking: its JSON, the customer's headers, the engineer, the service."""
    engineer = await world.engineer()
    svc = await world.service(**service)
    org = await world.organization()
    customer = await world.headers(await world.user(Role.CUSTOMER_USER, org))
    response = await world.client.post(
        "/v1/bookings",
        json={"service_id": str(svc.id), "starts_at": starts_at, "time_zone": "Europe/Moscow"},
        headers=customer,
    )
    assert response.status_code == 201, response.text
    return response.json(), customer, engineer, svc


async def mark_paid(world: World, booking_id: str) -> None:
    """What billing will do on a verified payment (not built yet): confirm the booking."""
    async with world.session() as session:
        await session.execute(
            sa.update(Booking)
            .where(col(Booking.id) == uuid.UUID(booking_id))
            .values(status=BookingStatus.CONFIRMED)
        )
