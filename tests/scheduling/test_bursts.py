"""Bursts as customers meet them: Monday 9:00, two hundred holds for one slot through two API
processes with five pooled connections each, while Stripe takes two seconds to answer, or refuses,
or one process is killed half-way. Real processes, real sockets, the real clock; reads during the
burst are timed by a separate process."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import httpx
import pytest

from api.settings import Settings
from billing.models import PaymentStatus
from scheduling.lifecycle import effective_status
from scheduling.models import BookingStatus
from tests.bursts import (
    GET_P99_LIMIT,
    RACERS,
    STRIPE_LATENCY,
    active_bookings,
    burst_env,
    logs_of,
    payments_of,
    prepare_race,
    run_burst,
)
from tests.harness import delaying_proxy, refused_port, servers
from tests.world import World

postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

pytestmark = pytest.mark.serial


@postgresql_only
async def test_two_hundred_holds_with_a_slow_stripe_give_one_booking_and_no_server_error(
    world: World, settings: Settings, localstripe_url: str, database_url: str
) -> None:
    race = await prepare_race(world)
    async with delaying_proxy(localstripe_url, STRIPE_LATENCY) as stripe:
        with servers(burst_env(settings.database_url, stripe.url), 2) as processes:
            outcome = await run_burst(processes, race)
            logs = logs_of(processes)
    assert outcome.statuses == Counter({201: 1, 409: RACERS - 1}), logs
    assert outcome.codes(409) == {"slot_taken"}
    assert outcome.get_p99 < GET_P99_LIMIT, f"p99 of GETs during the burst: {outcome.get_p99:.3f} s"
    [booking] = await active_bookings(world, race.service_id)
    [payment] = await payments_of(world)
    assert (payment.booking_id, payment.status) == (booking.id, PaymentStatus.REQUIRES_PAYMENT)
    assert payment.stripe_payment_intent_id is not None


@postgresql_only
async def test_the_same_burst_with_an_idempotency_key_on_every_hold_gives_the_same_answers(
    world: World, settings: Settings, localstripe_url: str, database_url: str
) -> None:
    race = await prepare_race(world)
    async with delaying_proxy(localstripe_url, STRIPE_LATENCY) as stripe:
        with servers(burst_env(settings.database_url, stripe.url), 2) as processes:
            outcome = await run_burst(processes, race, keyed=True)
            logs = logs_of(processes)
    assert outcome.statuses == Counter({201: 1, 409: RACERS - 1}), logs
    assert outcome.codes(409) == {"slot_taken"}
    assert outcome.get_p99 < GET_P99_LIMIT, f"p99 of GETs during the burst: {outcome.get_p99:.3f} s"
    assert len(await active_bookings(world, race.service_id)) == 1


@postgresql_only
async def test_holds_answer_503_at_once_when_stripe_refuses_and_leave_nothing_held(
    world: World, settings: Settings, database_url: str
) -> None:
    race = await prepare_race(world)
    with servers(burst_env(settings.database_url, f"http://127.0.0.1:{refused_port()}"), 2) as processes:
        outcome = await run_burst(processes, race)
        logs = logs_of(processes)
    statuses = outcome.statuses
    assert set(statuses) <= {503, 409}, logs
    assert statuses[503] >= 1
    assert outcome.codes(503) == {"payment_provider_unavailable"}
    refused = [r for r in outcome.responses if isinstance(r, httpx.Response) and r.status_code == 503]
    assert all(int(r.headers["retry-after"]) > 0 for r in refused)
    assert outcome.seconds < 30
    assert await active_bookings(world, race.service_id) == []
    assert await payments_of(world) == []


@postgresql_only
async def test_a_process_killed_mid_burst_leaves_no_slot_held_past_its_hold_and_nothing_double_booked(
    world: World, settings: Settings, localstripe_url: str, database_url: str
) -> None:
    race = await prepare_race(world, slots=20)
    async with delaying_proxy(localstripe_url, STRIPE_LATENCY) as stripe:
        with servers(burst_env(settings.database_url, stripe.url), 2) as processes:
            outcome = await run_burst(processes, race, kill_after=1.0)
    survivors = [r for n, r in enumerate(outcome.responses) if n % 2 == 1]
    assert all(isinstance(r, httpx.Response) and r.status_code in {201, 409} for r in survivors), [
        (r.status_code, r.text[:300]) if isinstance(r, httpx.Response) else repr(r) for r in survivors
    ]
    hold = timedelta(minutes=settings.booking_hold_minutes)
    active = await active_bookings(world, race.service_id)
    payments = {p.booking_id: p for p in await payments_of(world)}
    assert active, "the surviving process held slots"
    for booking in active:
        assert booking.id in payments, "every held slot has its payment record"
        if payments[booking.id].status == PaymentStatus.CREATING:  # its process died mid-call
            assert booking.hold_expires_at is not None
            assert booking.hold_expires_at <= booking.created_at + hold
            assert effective_status(booking, booking.created_at + hold) == BookingStatus.EXPIRED
    spans = sorted((b.blocked_from, b.blocked_until) for b in active)
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))
