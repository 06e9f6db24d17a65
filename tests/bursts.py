"""A burst of holds as customers make them, against server processes, with concurrent reads timed by a
separate process; shared by the burst tests and ``benchmarks.burst``."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa
from sqlmodel import col

from accounts.roles import Role
from billing.models import Payment
from scheduling.models import ACTIVE_BOOKING_STATES, Booking
from tests.harness import ServerProcess, start_watcher
from tests.world import World

RACERS = 200
ORGANIZATIONS = 5
STRIPE_LATENCY = 2.0
GET_P99_LIMIT = 1.0
MOSCOW = ZoneInfo("Europe/Moscow")


@dataclass
class Race:
    service_id: str
    slots: list[str]
    customers: list[dict[str, str]]
    watcher: dict[str, str]


@dataclass
class Outcome:
    responses: list[httpx.Response | BaseException]
    get_latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def statuses(self) -> Counter[int | str]:
        return Counter(
            r.status_code if isinstance(r, httpx.Response) else type(r).__name__ for r in self.responses
        )

    def codes(self, status: int) -> set[str]:
        return {
            r.json()["code"]
            for r in self.responses
            if isinstance(r, httpx.Response) and r.status_code == status
        }

    @property
    def get_p99(self) -> float:
        ordered = sorted(self.get_latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def grid_slots(now: datetime, count: int) -> list[str]:
    """``count`` consecutive 90-minute-apart starts on the half-hour grid, the first over 3 h away."""
    first = (now + timedelta(hours=3)).astimezone(MOSCOW).replace(second=0, microsecond=0)
    first += timedelta(minutes=(30 - first.minute % 30) % 30)
    return [(first + timedelta(minutes=90 * n)).isoformat() for n in range(count)]


async def prepare_race(world: World, *, slots: int = 1) -> Race:
    world.clock.current = datetime.now(UTC)  # the servers run on the real clock
    await world.engineer(hours=("00:00", "24:00"), days=range(7))
    service = await world.service(min_notice_minutes=60)
    organizations = [await world.organization() for _ in range(ORGANIZATIONS)]
    customers = [
        await world.headers(await world.user(Role.CUSTOMER_USER, organizations[n % ORGANIZATIONS]))
        for n in range(RACERS)
    ]
    watcher = await world.headers(await world.user(Role.CUSTOMER_USER, organizations[0]))
    return Race(str(service.id), grid_slots(world.clock.now(), slots), customers, watcher)


def burst_env(database_url: str, stripe_url: str) -> dict[str, str]:
    """Two processes like this one share the database: five pooled connections each."""
    return {
        "DESKLINE_DATABASE_URL": database_url,
        "DESKLINE_STRIPE_API_BASE": stripe_url,
        "DESKLINE_DATABASE_POOL_SIZE": "5",
        "DESKLINE_DATABASE_MAX_OVERFLOW": "0",
        "DESKLINE_STRIPE_CONNECT_TIMEOUT_SECONDS": "2",
        "DESKLINE_STRIPE_READ_TIMEOUT_SECONDS": "5",
    }


def watched_urls(processes: list[ServerProcess], race: Race) -> list[str]:
    """What everyone else does meanwhile: readiness probes and availability reads on every process."""
    day = datetime.fromisoformat(race.slots[0])
    query = httpx.QueryParams(
        service_id=race.service_id,
        to=(day + timedelta(hours=23)).isoformat(),
        tz="Europe/Moscow",
    ).set("from", (day - timedelta(hours=1)).isoformat())
    return [url for p in processes for url in (f"{p.url}/ready", f"{p.url}/v1/availability?{query}")]


async def run_burst(
    processes: list[ServerProcess], race: Race, *, keyed: bool = False, kill_after: float | None = None
) -> Outcome:
    limits = httpx.Limits(max_connections=RACERS + 10, max_keepalive_connections=RACERS + 10)
    watchers = [start_watcher(watched_urls(processes, race), race.watcher) for _ in range(2)]
    await asyncio.sleep(1.0)  # the watchers are reading before the burst begins
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        outcome = Outcome([])

        async def hold(n: int) -> httpx.Response:
            headers = dict(race.customers[n])
            if keyed:
                headers["Idempotency-Key"] = f"burst-{uuid.uuid4().hex}"
            body = {"service_id": race.service_id, "starts_at": race.slots[n % len(race.slots)]}
            url = f"{processes[n % len(processes)].url}/v1/bookings"
            return await client.post(url, json=body, headers=headers)

        async def killer() -> None:
            if kill_after is not None:
                await asyncio.sleep(kill_after)
                processes[0].kill()

        begun = time.perf_counter()
        results = await asyncio.gather(killer(), *(hold(n) for n in range(RACERS)), return_exceptions=True)
        outcome.seconds = time.perf_counter() - begun
        outcome.responses = [r for r in results[1:] if r is not None]
    for watcher in watchers:
        latencies, failures = watcher.stop()
        outcome.get_latencies.extend(latencies)
        if kill_after is None:
            assert failures == [], failures  # every read answered 200
    return outcome


async def active_bookings(world: World, service_id: str) -> list[Booking]:
    async with world.session() as session:
        rows = await session.scalars(
            sa.select(Booking).where(
                col(Booking.service_id) == uuid.UUID(service_id),
                col(Booking.status).in_(ACTIVE_BOOKING_STATES),
            )
        )
        return list(rows.all())


async def payments_of(world: World) -> list[Payment]:
    async with world.session() as session:
        return list((await session.scalars(sa.select(Payment))).all())


def logs_of(processes: list[ServerProcess]) -> str:
    return "\n".join(p.output()[-3000:] for p in processes)


def summary(outcome: Outcome) -> dict[str, Any]:  # Any: JSON figures, shared with the benchmark
    ordered = sorted(outcome.get_latencies)
    return {
        "wall_seconds": round(outcome.seconds, 2),
        "statuses": dict(outcome.statuses),
        "get_p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "get_p99_ms": round(outcome.get_p99 * 1000, 1) if ordered else None,
        "gets": len(ordered),
    }
