"""Paying for a hold, across scheduling (the slot), contracts (included minutes) and billing (the
payment): commit what must be true, call Stripe with no transaction open, record the answer (DESIGN.md,
"Connections and outside calls"). Also settling refunds that are owed, the same way.

A request never holds a transaction, a pooled connection or SQLite's write lock while Stripe is
asked anything; each step is a short unit of work on the request's own session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import Actor
from billing import (
    Payment,
    PaymentGateway,
    PaymentPlan,
    PaymentProviderUnavailable,
    abandon_checkout,
    order_for,
    payment_view,
    plan_of,
    prepare_checkout,
    record_failure,
    record_payment,
    record_sent,
    send_refund,
    start_checkout,
)
from contracts import book_contract_session
from core import idempotency
from core.crypto import KeyRing
from core.time import Clock
from core.transactions import end_transaction, unit_of_work
from scheduling import (
    Booking,
    BookingIn,
    BookingOut,
    BookingStatus,
    SchedulingPolicy,
    booking_out,
    create_hold,
    get_booking,
    release_unpaid_hold,
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Outside:
    """What a flow needs besides the session: the gateway, the clock, keys, the database kind, and how
    long an attempt owns its Idempotency-Key."""

    gateway: PaymentGateway
    clock: Clock
    keyring: KeyRing
    is_sqlite: bool
    idempotency_lease: timedelta = timedelta(minutes=2)


async def hold_with_payment(
    db: AsyncSession,
    actor: Actor,
    data: BookingIn,
    *,
    out: Outside,
    policy: SchedulingPolicy,
    claim: idempotency.Claim | None,
) -> BookingOut:
    """Hold a slot and start its payment. The hold and the payment record commit first; Stripe is
    asked with nothing open; the intent is recorded last. Under an Idempotency-Key (``claim``) the
    answer is stored for a retry, and a retry after a first attempt that died part-way takes over and
    finishes it."""
    try:
        async with unit_of_work(db, is_sqlite=out.is_sqlite):
            plan = await _held_payment(db, actor, out, policy, data, claim)
            if isinstance(plan, Booking):  # the contract's included minutes cover it: nothing to pay
                now = out.clock.now()
                covered = booking_out(plan, now)
                if claim is not None:
                    await idempotency.complete(db, claim, 201, msgspec.to_builtins(covered), now=now)
    except BaseException:
        if claim is not None:
            await _release(db, out, claim)
        raise
    if isinstance(plan, Booking):
        return covered
    try:
        started = await start_checkout(out.gateway, plan)
    except PaymentProviderUnavailable as exc:
        await _give_up(db, out, plan, claim, exc)
        raise
    except BaseException:
        if claim is not None:  # the hold stands: let a retry with the key finish it at once
            await _end_lease(db, out, claim)
        raise
    try:
        async with unit_of_work(db, is_sqlite=out.is_sqlite):
            now = out.clock.now()
            payment = await record_payment(db, started, out.keyring, now=now)
            booking = await get_booking(db, actor, plan.booking_id)
            body = booking_out(booking, now, payment_view(payment, out.keyring, with_secret=True))
            if claim is not None:
                await idempotency.complete(db, claim, 201, msgspec.to_builtins(body), now=now)
    except BaseException:
        if claim is not None:  # the hold stands: let a retry with the key finish it at once
            await _end_lease(db, out, claim)
        raise
    return body


async def _held_payment(
    db: AsyncSession,
    actor: Actor,
    out: Outside,
    policy: SchedulingPolicy,
    data: BookingIn,
    claim: idempotency.Claim | None,
) -> PaymentPlan | Booking:
    """Hold the slot and record its payment, or pick up what an abandoned attempt already held. A
    session under a contract that its included minutes cover is confirmed at once: nothing to pay."""
    now = out.clock.now()
    if claim is not None and (payment_id := claim.progress.get("payment_id")):
        payment = await db.get(Payment, uuid.UUID(str(payment_id)))
        if payment is not None:
            log.info("hold_resumed", booking_id=str(payment.booking_id), payment_id=str(payment.id))
            return await plan_of(db, payment)
    if data.funding == "contract":
        booking = await book_contract_session(
            db,
            actor,
            service_id=data.service_id,
            starts_at=data.starts_at,
            tz=data.time_zone,
            policy=policy,
            now=now,
        )
        if booking.status == BookingStatus.CONFIRMED:
            return booking
    else:
        booking = await create_hold(
            db,
            actor,
            service_id=data.service_id,
            starts_at=data.starts_at,
            tz=data.time_zone,
            funding=data.funding,
            policy=policy,
            now=now,
        )
    plan = await prepare_checkout(db, booking, now=now)
    if claim is not None:
        progress = {"booking_id": str(booking.id), "payment_id": str(plan.payment_id)}
        await idempotency.save_progress(db, claim, progress, now=now, lease=out.idempotency_lease)
    return plan


async def _give_up(
    db: AsyncSession,
    out: Outside,
    plan: PaymentPlan,
    claim: idempotency.Claim | None,
    error: PaymentProviderUnavailable,
) -> None:
    """Stripe could not start the payment: release the slot at once. If Stripe certainly never saw
    the request, nothing is left behind; if it may have, the payment stays on record as abandoned."""
    async with unit_of_work(db, is_sqlite=out.is_sqlite):
        now = out.clock.now()
        kept = await abandon_checkout(
            db,
            plan.payment_id,
            stripe_may_have_it=error.reached,
            reason=f"payment could not start: {error.detail}",
            now=now,
        )
        await release_unpaid_hold(db, plan.booking_id, forget=not kept, now=now)
        if claim is not None:
            await idempotency.release(db, claim)
    log.warning(
        "hold_released_payment_unavailable",
        booking_id=str(plan.booking_id),
        payment_id=str(plan.payment_id),
        stripe_may_have_it=error.reached,
    )


async def _release(db: AsyncSession, out: Outside, claim: idempotency.Claim) -> None:
    await db.rollback()
    async with unit_of_work(db, is_sqlite=out.is_sqlite):
        await idempotency.release(db, claim)


async def _end_lease(db: AsyncSession, out: Outside, claim: idempotency.Claim) -> None:
    await db.rollback()
    async with unit_of_work(db, is_sqlite=out.is_sqlite):
        await idempotency.end_lease(db, claim, now=out.clock.now())


async def settle_refunds(db: AsyncSession, out: Outside, refund_ids: Iterable[uuid.UUID]) -> None:
    """Ask Stripe for refunds already recorded as owed, each in its own steps with no transaction
    open during the call; a refund Stripe cannot make now stays owed for a later attempt."""
    await end_transaction(db)
    for refund_id in refund_ids:
        async with unit_of_work(db, is_sqlite=out.is_sqlite, write=False):
            order = await order_for(db, refund_id)
        if order is None:
            continue
        try:
            stripe_refund_id = await send_refund(out.gateway, order)
        except PaymentProviderUnavailable as exc:
            async with unit_of_work(db, is_sqlite=out.is_sqlite):
                await record_failure(db, refund_id, exc, now=out.clock.now())
            log.warning(
                "refund_not_made", refund_id=str(refund_id), definitive=exc.definitive, detail=exc.detail
            )
            continue
        async with unit_of_work(db, is_sqlite=out.is_sqlite):
            await record_sent(db, refund_id, stripe_refund_id, now=out.clock.now())
