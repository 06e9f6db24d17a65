"""The demo data set of ``deskline seed-demo``: people and companies, plus a bookable service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import SYSTEM_ACTOR, User, seed_demo_data
from scheduling import ServiceIn, WorkingHoursIn, create_service, set_working_hours


async def seed_demo(session: AsyncSession, *, now: datetime) -> dict[str, Any]:  # Any: JSON summary
    """Accounts first (idempotent); on a first run also the engineer's week and a remote-session service."""
    summary = await seed_demo_data(session, now=now)
    if summary["status"] != "seeded":
        return summary
    engineer = (
        await session.scalars(sa.select(User).where(col(User.email) == "engineer@deskline.demo"))
    ).one()
    await set_working_hours(
        session,
        SYSTEM_ACTOR,
        engineer.id,
        WorkingHoursIn(
            time_zone="Europe/Moscow",
            weekly_hours={str(d): [("09:00", "18:00")] for d in range(5)},
            skills=["sql", "exchange"],
        ),
        now=now,
    )
    service = await create_service(
        session,
        ServiceIn(
            name="Remote session (1 hour)",
            duration_minutes=60,
            price_minor=500_000,
            currency="RUB",
            description="An engineer connects to your server and fixes the problem with you.",
        ),
        now=now,
    )
    return {**summary, "service_id": str(service.id), "engineer_id": str(engineer.id)}
