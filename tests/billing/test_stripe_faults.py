"""Stripe down, Stripe silent, a process dying between the hold and Stripe's answer: a hold never
outlives a payment that cannot start, no intent goes unrecorded, and a retry finishes the work."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col

from accounts.actor import Actor
from accounts.roles import Role
from api.app import create_app
from api.cli import main
from api.context import build_gateway
from api.settings import Settings
from billing import checkout
from billing.models import Payment, PaymentStatus, Refund, RefundStatus
from core import idempotency
from scheduling import bookings
from scheduling.models import Booking, BookingStatus
from tests.billing.helpers import pay_in_browser, signed
from tests.harness import delaying_proxy, refused_port
from tests.world import World

SLOT = "2026-01-13T10:00:00+03:00"


@asynccontextmanager
async def app_with(
    world: World, settings: Settings, **changes: Any
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(settings.model_copy(update=changes), clock=world.clock, configure_logs=False)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client


@contextmanager
def silent_stripe() -> Iterator[str]:
    """A server that accepts connections and reads requests but never answers (Stripe hanging)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(50)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for connection in held:
            connection.close()
        listener.close()


async def _customer_and_service(world: World, **service_fields: Any) -> tuple[dict[str, str], dict[str, str]]:
    await world.engineer()
    service = await world.service(**service_fields)
    org = await world.organization()
    headers = await world.headers(await world.user(Role.CUSTOMER_USER, org))
    return headers, {"service_id": str(service.id), "starts_at": SLOT, "time_zone": "Europe/Moscow"}


async def _rows(world: World) -> tuple[list[Booking], list[Payment]]:
    async with world.session() as session:
        found = (
            (await session.scalars(sa.select(Booking))).all(),
            (await session.scalars(sa.select(Payment))).all(),
        )
    return list(found[0]), list(found[1])


async def test_a_hold_while_stripe_refuses_connections_answers_503_and_leaves_nothing_behind(
    world: World, settings: Settings
) -> None:
    headers, body = await _customer_and_service(world)
    async with app_with(world, settings, stripe_api_base=f"http://127.0.0.1:{refused_port()}") as client:
        response = await client.post("/v1/bookings", json=body, headers=headers)
    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert int(response.headers["retry-after"]) > 0
    assert await _rows(world) == ([], [])
    retried = await world.client.post("/v1/bookings", json=body, headers=headers)  # Stripe is back
    assert retried.status_code == 201, retried.text


async def test_a_hold_whose_stripe_call_times_out_frees_the_slot_and_keeps_the_attempt_on_record(
    world: World, settings: Settings
) -> None:
    headers, body = await _customer_and_service(world)
    with silent_stripe() as stripe_url:
        async with app_with(
            world,
            settings,
            stripe_api_base=stripe_url,
            stripe_read_timeout_seconds=0.5,
            stripe_max_network_retries=0,
        ) as client:
            response = await client.post("/v1/bookings", json=body, headers=headers)
    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    [booking], [payment] = await _rows(world)
    assert booking.status == BookingStatus.EXPIRED  # released at once, not at the hold's expiry
    assert (payment.status, payment.stripe_payment_intent_id) == (PaymentStatus.ABANDONED, None)
    assert "payment could not start" in (payment.note or "")
    again = await world.client.post("/v1/bookings", json=body, headers=headers)
    assert again.status_code == 201, again.text


async def test_a_retry_with_the_same_key_finishes_a_hold_whose_process_died_before_stripe_answered(
    world: World, settings: Settings
) -> None:
    headers, body = await _customer_and_service(world)
    me = (await world.client.get("/v1/me", headers=headers)).json()
    actor = Actor(
        kind="user",
        id=uuid.UUID(me["id"]),
        role=Role.CUSTOMER_USER,
        organization_id=uuid.UUID(me["organization"]["id"]),
    )
    key, raw = "portal-crash-1", json.dumps(body).encode()
    now = world.clock.now()
    async with world.session() as session:  # what the first attempt committed before its process died
        claim = await idempotency.claim(
            session, f"user:{actor.id}", key, idempotency.fingerprint("POST", "/v1/bookings", raw), now=now
        )
        assert isinstance(claim, idempotency.Claim)
        held = await bookings.create_hold(
            session,
            actor,
            service_id=uuid.UUID(body["service_id"]),
            starts_at=datetime.fromisoformat(SLOT),
            tz="Europe/Moscow",
            funding="payment",
            policy=world.ctx.scheduling,
            now=now,
        )
        plan = await checkout.prepare_checkout(session, held, now=now)
        await idempotency.save_progress(
            session,
            claim,
            {"booking_id": str(held.id), "payment_id": str(plan.payment_id)},
            now=now,
            lease=timedelta(minutes=2),
        )
    keyed = {**headers, "Idempotency-Key": key, "content-type": "application/json"}
    in_flight = await world.client.post("/v1/bookings", content=raw, headers=keyed)
    assert in_flight.status_code == 409
    assert in_flight.json()["code"] == "request_in_flight"
    world.clock.advance(timedelta(minutes=3))  # the dead attempt's lease lapses; the hold still stands
    finished = await world.client.post("/v1/bookings", content=raw, headers=keyed)
    assert finished.status_code == 201, finished.text
    assert finished.json()["id"] == str(held.id)
    assert finished.json()["payment"]["payment_id"] == str(plan.payment_id)
    assert finished.json()["payment"]["client_secret"]
    replayed = await world.client.post("/v1/bookings", content=raw, headers=keyed)
    assert replayed.json() == finished.json()
    [booking], [payment] = await _rows(world)
    assert (payment.status, payment.stripe_payment_intent_id) == (
        PaymentStatus.REQUIRES_PAYMENT,
        finished.json()["payment"]["payment_intent_id"],
    )
    assert booking.status == BookingStatus.PENDING_PAYMENT


async def test_a_cancellation_while_stripe_is_down_owes_the_refund_and_settle_refunds_makes_it(
    world: World, settings: Settings
) -> None:
    headers, body = await _customer_and_service(world, full_refund_hours_before=12)
    booking = (await world.client.post("/v1/bookings", json=body, headers=headers)).json()
    intent = pay_in_browser(world, booking["payment"]["payment_intent_id"])
    event, signature = signed(world, "payment_intent.succeeded", intent)
    await world.client.post("/v1/billing/stripe/webhook", content=event, headers=signature)
    async with app_with(world, settings, stripe_api_base=f"http://127.0.0.1:{refused_port()}") as client:
        cancelled = await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["cancellation_refund"]) == ("cancelled", "full")
    [payment] = (await world.client.get("/v1/payments", headers=headers)).json()["items"]
    assert payment["status"] == "refunded"  # owed: the amount counts as returned at once
    assert [r["status"] for r in payment["refunds"]] == ["pending"]
    assert "APIConnectionError" in payment["refunds"][0]["last_error"]

    result = await asyncio.to_thread(  # Stripe is back: the command asks again
        CliRunner().invoke,
        main,
        ["billing", "settle-refunds"],
        env={
            "DESKLINE_DATABASE_URL": settings.database_url,
            "DESKLINE_STRIPE_API_BASE": settings.stripe_api_base or "",
            "DESKLINE_LOG_FORMAT": "json",
        },
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1]) == {"asked": 1, "still_pending": 0}
    async with world.session() as session:
        refund = (
            await session.scalars(sa.select(Refund).where(col(Refund.payment_id) == uuid.UUID(payment["id"])))
        ).one()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.stripe_refund_id


async def test_every_stripe_call_is_bounded_by_the_configured_timeouts(settings: Settings) -> None:
    gateway = build_gateway(settings.model_copy(update={"stripe_read_timeout_seconds": 7.5}))
    http: Any = gateway._client._requestor._client  # Any: SDK internals
    assert http._timeout.read == 7.5
    assert http._timeout.connect == settings.stripe_connect_timeout_seconds


async def test_a_hold_waiting_for_a_slow_stripe_blocks_no_other_write(
    world: World, settings: Settings
) -> None:
    """On SQLite a hold that kept its transaction across Stripe would keep every writer waiting."""
    headers, body = await _customer_and_service(world)
    _, admin = await world.staff(Role.ADMIN)
    async with (
        delaying_proxy(settings.stripe_api_base or "", 2.0) as slow_stripe,
        app_with(world, settings, stripe_api_base=slow_stripe.url) as client,
    ):

        async def meanwhile() -> float:
            await asyncio.sleep(0.5)  # the hold is waiting for Stripe by now
            begun = time.perf_counter()
            response = await client.post("/v1/organizations", json={"name": "Meanwhile"}, headers=admin)
            assert response.status_code == 201, response.text
            return time.perf_counter() - begun

        hold, other_write = await asyncio.gather(
            client.post("/v1/bookings", json=body, headers=headers), meanwhile()
        )
    assert hold.status_code == 201, hold.text
    assert other_write < 1.0, f"a write waited {other_write:.2f} s behind a hold waiting for Stripe"
