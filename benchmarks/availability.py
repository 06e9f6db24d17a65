"""Benchmark: GET /v1/availability for a 30-day window with 20 engineers, 20,000 existing bookings and
500 recurring busy events (target: median < 50 ms, p95 < 100 ms), and the no-double-booking race
(50 concurrent holds on one slot of one engineer).

Run: .venv/bin/python -m benchmarks.availability [--database-url URL] [--requests 200]
     (a PostgreSQL URL should name a scratch database; it is migrated and filled)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
import uvicorn
from litestar import Litestar
from sqlalchemy.ext.asyncio import async_sessionmaker

from accounts.actor import SYSTEM_ACTOR
from accounts.directory import create_organization, create_user
from accounts.roles import Role
from accounts.schemas import OrganizationIn, UserIn
from accounts.tokens import issue_access_token
from api.app import create_app
from api.logging import configure_logging
from api.migrations import upgrade
from api.settings import load_settings
from core.time import FrozenClock
from scheduling.busy import import_busy_calendar
from scheduling.catalog import create_service
from scheduling.engineers import set_working_hours
from scheduling.models import Booking, BookingStatus, Engineer
from scheduling.schemas import ServiceIn, WorkingHoursIn

ENGINEERS, BOOKINGS, BUSY_EVENTS = 20, 20_000, 500
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, 09:00 Moscow
WINDOW = ("2026-03-03T00:00:00+03:00", "2026-04-02T00:00:00+03:00")


def busy_ics(engineer: int, count: int) -> bytes:
    """``count`` weekly recurring one-hour meetings at varied weekday hours."""
    events = []
    for i in range(count):
        day = (i % 5) + 2  # 2026-03-02 is a Monday
        hour = 9 + (engineer + i) % 8
        events.append(
            f"BEGIN:VEVENT\nUID:e{engineer}-{i}@bench\n"
            f"DTSTART;TZID=Europe/Moscow:202603{day:02d}T{hour:02d}{(i % 2) * 30:02d}00\n"
            f"DURATION:PT45M\nRRULE:FREQ=WEEKLY\nSUMMARY:Meeting {i}\nEND:VEVENT\n"
        )
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//bench//EN\n" + "".join(events) + "END:VCALENDAR\n"
    ).encode()


async def prepare(app: Litestar) -> tuple[str, str, str, list[str]]:
    """Engineers, their busy calendars, a service, 20,000 bookings; returns the service id and tokens."""
    ctx = app.state.ctx
    maker = async_sessionmaker(ctx.alchemy.get_engine(), expire_on_commit=False)
    async with maker() as session, session.begin():
        org = await create_organization(
            session, SYSTEM_ACTOR, OrganizationIn(name=f"Bench {uuid.uuid4().hex[:6]}"), now=NOW
        )
        customer = await create_user(
            session,
            SYSTEM_ACTOR,
            org.id,
            UserIn(
                email=f"c-{uuid.uuid4().hex[:8]}@bench.example", full_name="Customer", role=Role.CUSTOMER_USER
            ),
            now=NOW,
        )
        service = await create_service(
            session,
            ServiceIn(name="Remote session", duration_minutes=60, price_minor=1, currency="RUB"),
            now=NOW,
        )
        # Only one engineer has this skill: the race is for one slot of one engineer.
        race_service = await create_service(
            session,
            ServiceIn(
                name="Race", duration_minutes=60, price_minor=1, currency="RUB", required_skills=["race"]
            ),
            now=NOW,
        )
        engineer_ids = []
        for e in range(ENGINEERS):
            user = await create_user(
                session,
                SYSTEM_ACTOR,
                None,
                UserIn(
                    email=f"e{e}-{uuid.uuid4().hex[:8]}@bench.example",
                    full_name=f"Engineer {e}",
                    role=Role.SUPPORT_ENGINEER,
                ),
                now=NOW,
            )
            engineer = await set_working_hours(
                session,
                SYSTEM_ACTOR,
                user.id,
                WorkingHoursIn(
                    time_zone="Europe/Moscow",
                    weekly_hours={str(d): [("09:00", "18:00")] for d in range(5)},
                    skills=["race"] if e == 0 else [],
                ),
                now=NOW,
            )
            await import_busy_calendar(
                session, engineer, name="outlook", content=busy_ics(e, BUSY_EVENTS // ENGINEERS), now=NOW
            )
            engineer_ids.append(engineer.user_id)
        rows = []
        per_engineer = BOOKINGS // ENGINEERS
        for e, engineer_id in enumerate(engineer_ids):
            # Two bookings a working day, from ~1.4 years before now to ~0.6 years after.
            start = NOW - timedelta(days=500) + timedelta(hours=e % 3)
            for n in range(per_engineer):
                day = start + timedelta(days=n // 2)
                begins = day.replace(hour=7 + (n % 2) * 4)
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "number": 100_000 + e * per_engineer + n,
                        "service_id": service.id,
                        "organization_id": org.id,
                        "booked_by": customer.id,
                        "engineer_id": engineer_id,
                        "status": BookingStatus.CONFIRMED,
                        "funding": "payment",
                        "time_zone": "Europe/Moscow",
                        "starts_at": begins,
                        "ends_at": begins + timedelta(hours=1),
                        "blocked_from": begins,
                        "blocked_until": begins + timedelta(minutes=75),
                        "price_minor": 1,
                        "currency": "RUB",
                        "ics_sequence": 0,
                        "created_at": NOW,
                        "updated_at": NOW,
                        "revision": 1,
                    }
                )
        for chunk in range(0, len(rows), 2000):
            await session.execute(sa.insert(Booking), rows[chunk : chunk + 2000])
        token = await issue_access_token(
            session, ctx.keyring, ctx.token_policy, subject=str(customer.id), subject_kind="user", now=NOW
        )
        racers = []
        for r in range(50):
            racer_org = await create_organization(
                session, SYSTEM_ACTOR, OrganizationIn(name=f"Racer {r}"), now=NOW
            )
            racer = await create_user(
                session,
                SYSTEM_ACTOR,
                racer_org.id,
                UserIn(
                    email=f"r{r}-{uuid.uuid4().hex[:8]}@bench.example",
                    full_name="Racer",
                    role=Role.CUSTOMER_USER,
                ),
                now=NOW,
            )
            racers.append(
                (
                    await issue_access_token(
                        session,
                        ctx.keyring,
                        ctx.token_policy,
                        subject=str(racer.id),
                        subject_kind="user",
                        now=NOW,
                    )
                ).token
            )
        engineers = await session.scalar(sa.select(sa.func.count()).select_from(Engineer))
        assert engineers is not None
        assert engineers >= ENGINEERS
    return str(service.id), str(race_service.id), token.token, racers


async def main(database_url: str, requests: int) -> None:
    settings = load_settings(
        database_url=database_url, log_level="WARNING", log_format="json", access_token_ttl_seconds=86_400
    )
    configure_logging(settings)
    app = create_app(settings, clock=FrozenClock(NOW), configure_logs=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=18_431, log_config=None, access_log=False)
    )
    asyncio.get_running_loop().create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    started = time.perf_counter()
    service_id, race_service_id, token, racers = await prepare(app)
    if database_url.startswith("postgresql"):
        async with app.state.ctx.alchemy.get_engine().connect() as connection:
            await connection.execute(sa.text("ANALYZE"))  # fresh statistics, as autovacuum would give
    print(
        f"prepared {ENGINEERS} engineers, {BOOKINGS} bookings, {BUSY_EVENTS} recurring busy events "
        f"in {time.perf_counter() - started:.1f} s"
    )
    params = {"service_id": service_id, "from": WINDOW[0], "to": WINDOW[1], "tz": "Europe/Moscow"}
    async with httpx.AsyncClient(base_url="http://127.0.0.1:18431", timeout=60) as client:
        headers = {"Authorization": f"Bearer {token}"}
        first = await client.get("/v1/availability", params=params, headers=headers)
        assert first.status_code == 200, first.text
        slots = len(first.json()["slots"])
        timings = []
        for _ in range(requests):
            begin = time.perf_counter()
            response = await client.get("/v1/availability", params=params, headers=headers)
            timings.append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200
        free = await client.get(
            "/v1/availability", params={**params, "service_id": race_service_id}, headers=headers
        )
        slot = free.json()["slots"][0]["starts_at"]
        body = {"service_id": race_service_id, "starts_at": slot, "time_zone": "Europe/Moscow"}
        race_started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(
                client.post("/v1/bookings", json=body, headers={"Authorization": f"Bearer {t}"})
                for t in racers
            )
        )
        race_seconds = time.perf_counter() - race_started
    server.should_exit = True
    await asyncio.sleep(0.3)
    ordered = sorted(timings)
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
        f"database {database_url.split(':')[0]}; uvicorn on loopback, httpx in the same process"
    )
    print(
        f"GET /v1/availability, 30 days, {slots} slots offered: median {statistics.median(ordered):.1f} ms, "
        f"p95 {ordered[int(len(ordered) * 0.95)]:.1f} ms, max {ordered[-1]:.1f} ms (n={requests}; "
        f"target median < 50, p95 < 100)"
    )
    codes = sorted(r.status_code for r in outcomes)
    print(
        f"race: 50 concurrent holds on one slot -> {codes.count(201)} x 201, {codes.count(409)} x 409 "
        f"in {race_seconds * 1000:.0f} ms ({len(outcomes) / race_seconds:.0f} req/s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    directory = Path(tempfile.mkdtemp(prefix="deskline-bench-"))
    parser.add_argument("--database-url", default=f"sqlite+aiosqlite:///{directory / 'bench.db'}")
    parser.add_argument("--requests", type=int, default=200)
    arguments = parser.parse_args()
    upgrade(load_settings(database_url=arguments.database_url))
    asyncio.run(main(arguments.database_url, arguments.requests))
