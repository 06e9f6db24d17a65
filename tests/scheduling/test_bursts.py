"""Bursts as customers meet them: Monday 9:00, two hundred holds for one slot through two API
processes with five pooled connections each, while Stripe takes two seconds to answer, or refuses,
or one process is killed half-way. Real processes, real sockets, the real clock."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col

from accounts.roles import Role
from api.settings import Settings
from billing.models import Payment, PaymentStatus
from scheduling.lifecycle import effective_status
from scheduling.models import ACTIVE_BOOKING_STATES, Booking, BookingStatus
from tests.harness import ServerProcess, delaying_proxy, refused_port, servers, start_watcher
from tests.world import World

RACERS = 200
ORGANIZATIONS = 5
STRIPE_LATENCY = 2.0
GET_P99_LIMIT = 1.0
MOSCOW = ZoneInfo("Europe/Moscow")
postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


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


def _grid_slots(now: datetime, count: int) -> list[str]:
    """``count`` consecutive 90-minute-apart starts on the half-hour grid, the first over 3 h away."""
    first = (now + timedelta(hours=3)).astimezone(MOSCOW).replace(second=0, microsecond=0)
    first += timedelta(minutes=(30 - first.minute % 30) % 30)
    return [(first + timedelta(minutes=90 * n)).isoformat() for n in range(count)]


async def _race(world: World, *, slots: int = 1) -> Race:
    world.clock.current = datetime.now(UTC)  # the servers run on the real clock
    await world.engineer(hours=("00:00", "24:00"), days=range(7))
    service = await world.service(min_notice_minutes=60)
    organizations = [await world.organization() for _ in range(ORGANIZATIONS)]
    customers = [
        await world.headers(await world.user(Role.CUSTOMER_USER, organizations[n % ORGANIZATIONS]))
        for n in range(RACERS)
    ]
    watcher = await world.headers(await world.user(Role.CUSTOMER_USER, organizations[0]))
    return Race(str(service.id), _grid_slots(world.clock.now(), slots), customers, watcher)


def _env(settings: Settings, stripe_url: str) -> dict[str, str]:
    return {
        "DESKLINE_DATABASE_URL": settings.database_url,
        "DESKLINE_STRIPE_API_BASE": stripe_url,
        "DESKLINE_DATABASE_POOL_SIZE": "5",
        "DESKLINE_DATABASE_MAX_OVERFLOW": "0",
        "DESKLINE_STRIPE_CONNECT_TIMEOUT_SECONDS": "2",
        "DESKLINE_STRIPE_READ_TIMEOUT_SECONDS": "5",
    }


def _watched_urls(processes: list[ServerProcess], race: Race) -> list[str]:
    """What everyone else does meanwhile: readiness probes and availability reads on every process."""
    day = datetime.fromisoformat(race.slots[0])
    query = httpx.QueryParams(
        service_id=race.service_id,
        to=(day + timedelta(hours=23)).isoformat(),
        tz="Europe/Moscow",
    ).set("from", (day - timedelta(hours=1)).isoformat())
    return [url for p in processes for url in (f"{p.url}/ready", f"{p.url}/v1/availability?{query}")]


async def _burst(
    processes: list[ServerProcess], race: Race, *, keyed: bool = False, kill_after: float | None = None
) -> Outcome:
    limits = httpx.Limits(max_connections=RACERS + 10, max_keepalive_connections=RACERS + 10)
    watchers = [start_watcher(_watched_urls(processes, race), race.watcher) for _ in range(2)]
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


async def _active_bookings(world: World, service_id: str) -> list[Booking]:
    async with world.session() as session:
        rows = await session.scalars(
            sa.select(Booking).where(
                col(Booking.service_id) == uuid.UUID(service_id),
                col(Booking.status).in_(ACTIVE_BOOKING_STATES),
            )
        )
        return list(rows.all())


async def _payments(world: World) -> list[Payment]:
    async with world.session() as session:
        return list((await session.scalars(sa.select(Payment))).all())


def _logs(processes: list[ServerProcess]) -> str:
    return "\n".join(p.output()[-3000:] for p in processes)


async def test_two_hundred_holds_with_a_slow_stripe_give_one_booking_and_no_server_error(
    world: World, settings: Settings, localstripe_url: str
) -> None:
    race = await _race(world)
    async with delaying_proxy(localstripe_url, STRIPE_LATENCY) as stripe:
        with servers(_env(settings, stripe.url), 2) as processes:
            outcome = await _burst(processes, race)
            logs = _logs(processes)
    assert outcome.statuses == Counter({201: 1, 409: RACERS - 1}), logs
    assert outcome.codes(409) == {"slot_taken"}
    assert outcome.get_p99 < GET_P99_LIMIT, f"p99 of GETs during the burst: {outcome.get_p99:.3f} s"
    [booking] = await _active_bookings(world, race.service_id)
    [payment] = await _payments(world)
    assert (payment.booking_id, payment.status) == (booking.id, PaymentStatus.REQUIRES_PAYMENT)
    assert payment.stripe_payment_intent_id is not None


@postgresql_only
async def test_the_same_burst_with_an_idempotency_key_on_every_hold_gives_the_same_answers(
    world: World, settings: Settings, localstripe_url: str, database_url: str
) -> None:
    race = await _race(world)
    async with delaying_proxy(localstripe_url, STRIPE_LATENCY) as stripe:
        with servers(_env(settings, stripe.url), 2) as processes:
            outcome = await _burst(processes, race, keyed=True)
            logs = _logs(processes)
    assert outcome.statuses == Counter({201: 1, 409: RACERS - 1}), logs
    assert outcome.codes(409) == {"slot_taken"}
    assert outcome.get_p99 < GET_P99_LIMIT, f"p99 of GETs during the burst: {outcome.get_p99:.3f} s"
    assert len(await _active_bookings(world, race.service_id)) == 1


@postgresql_only
async def test_holds_answer_503_at_once_when_stripe_refuses_and_leave_nothing_held(
    world: World, settings: Settings, database_url: str
) -> None:
    race = await _race(world)
    with servers(_env(settings, f"http://127.0.0.1:{refused_port()}"), 2) as processes:
        outcome = await _burst(processes, race)
        logs = _logs(processes)
    statuses = outcome.statuses
    assert set(statuses) <= {503, 409}, logs
    assert statuses[503] >= 1
    assert outcome.codes(503) == {"payment_provider_unavailable"}
    refused = [r for r in outcome.responses if isinstance(r, httpx.Response) and r.status_code == 503]
    assert all(int(r.headers["retry-after"]) > 0 for r in refused)
    assert outcome.seconds < 30
    assert await _active_bookings(world, race.service_id) == []
    assert await _payments(world) == []


@postgresql_only
async def test_a_process_killed_mid_burst_leaves_no_slot_held_past_its_hold_and_nothing_double_booked(
    world: World, settings: Settings, localstripe_url: str, database_url: str
) -> None:
    race = await _race(world, slots=20)
    async with delaying_proxy(localstripe_url, STRIPE_LATENCY) as stripe:
        with servers(_env(settings, stripe.url), 2) as processes:
            outcome = await _burst(processes, race, kill_after=1.0)
    survivors = [r for n, r in enumerate(outcome.responses) if n % 2 == 1]
    assert all(isinstance(r, httpx.Response) and r.status_code in {201, 409} for r in survivors), [
        (r.status_code, r.text[:300]) if isinstance(r, httpx.Response) else repr(r) for r in survivors
    ]
    hold = timedelta(minutes=settings.booking_hold_minutes)
    active = await _active_bookings(world, race.service_id)
    payments = {p.booking_id: p for p in await _payments(world)}
    assert active, "the surviving process held slots"
    for booking in active:
        assert booking.id in payments, "every held slot has its payment record"
        if payments[booking.id].status == PaymentStatus.CREATING:  # its process died mid-call
            assert booking.hold_expires_at is not None
            assert booking.hold_expires_at <= booking.created_at + hold
            assert effective_status(booking, booking.created_at + hold) == BookingStatus.EXPIRED
    spans = sorted((b.blocked_from, b.blocked_until) for b in active)
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))


def summary(outcome: Outcome) -> dict[str, Any]:  # Any: JSON figures, shared with the benchmark
    ordered = sorted(outcome.get_latencies)
    return {
        "wall_seconds": round(outcome.seconds, 2),
        "statuses": dict(outcome.statuses),
        "get_p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "get_p99_ms": round(outcome.get_p99 * 1000, 1) if ordered else None,
        "gets": len(ordered),
    }
