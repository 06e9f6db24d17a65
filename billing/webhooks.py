"""Stripe webhooks: verified, stored once, tolerant of replays and of out-of-order delivery.

Rule for money that arrives late: a payment for a hold that lapsed confirms the booking if its slot
is still free, and is refunded automatically (with the reason recorded) when it is not.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import stripe
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from billing.errors import WebhookRejected
from billing.gateway import PaymentGateway
from billing.models import Payment, PaymentStatus, WebhookEvent
from core.db import dialect_insert
from scheduling.payments import confirm_paid_booking

TOLERANCE = timedelta(minutes=5)


def verify(payload: bytes, signature: str | None, secret: str, *, now: datetime) -> dict[str, Any]:
    """The event, if the ``Stripe-Signature`` is valid for our secret and recent enough."""
    if not signature:
        raise WebhookRejected("The Stripe-Signature header is missing.")
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret, tolerance=None)
        timestamp = int(dict(part.split("=", 1) for part in signature.split(",") if "=" in part)["t"])
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise WebhookRejected("The webhook signature or body is not valid.") from exc
    if abs(now.timestamp() - timestamp) > TOLERANCE.total_seconds():
        raise WebhookRejected("The webhook is too old (or from the future); replays are refused.")
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or "data" not in event:
        raise WebhookRejected("The webhook body is not a Stripe event.")
    return event


async def receive(
    session: AsyncSession, gateway: PaymentGateway, event: dict[str, Any], *, now: datetime
) -> str:
    """Apply an event once; return what was done (also stored with the event)."""
    obj = event.get("data", {}).get("object", {}) or {}
    inserted = await session.execute(
        dialect_insert(session, WebhookEvent)
        .values(
            event_id=event["id"],
            event_type=str(event.get("type", "")),
            object_id=obj.get("id"),
            received_at=now,
            payload=event,
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(col(WebhookEvent.event_id))
    )
    if inserted.scalar_one_or_none() is None:
        return "duplicate"
    kind = event.get("type")
    if kind == "payment_intent.succeeded":
        outcome = await _succeeded(session, gateway, obj, now=now)
    elif kind == "payment_intent.payment_failed":
        outcome = await _failed(session, obj, now=now)
    elif kind == "charge.refunded":
        outcome = await _refunded(session, obj, now=now)
    else:
        outcome = "ignored"
    await session.execute(
        sa.update(WebhookEvent).where(col(WebhookEvent.event_id) == event["id"]).values(outcome=outcome)
    )
    return outcome


async def _payment_of(session: AsyncSession, intent: dict[str, Any]) -> Payment | None:
    return (
        await session.scalars(
            sa.select(Payment)
            .where(col(Payment.stripe_payment_intent_id) == str(intent.get("id")))
            .with_for_update()
        )
    ).first()


async def _succeeded(
    session: AsyncSession, gateway: PaymentGateway, intent: dict[str, Any], *, now: datetime
) -> str:
    payment = await _payment_of(session, intent)
    if payment is None:
        return "unknown payment"
    if payment.refunded_minor >= payment.amount_minor:  # the refund event came first: the money is back
        payment.status = PaymentStatus.REFUNDED
        return "already refunded"
    if payment.status not in {PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.FAILED}:
        return "already settled"
    received = int(intent.get("amount_received") or intent.get("amount") or 0)
    if received != payment.amount_minor or str(intent.get("currency", "")).upper() != payment.currency:
        payment.note = f"amount mismatch: received {received} {str(intent.get('currency', '')).upper()}"
        payment.updated_at = now
        return "amount mismatch (left for staff)"
    payment.status, payment.updated_at = PaymentStatus.SUCCEEDED, now
    if await confirm_paid_booking(session, payment.booking_id, now=now):
        return "booking confirmed"
    await gateway.refund(
        payment_intent=payment.stripe_payment_intent_id,
        amount=payment.amount_minor,
        idempotency_key=f"deskline-auto-refund-{payment.id}",
    )
    payment.status, payment.refunded_minor = PaymentStatus.REFUNDED, payment.amount_minor
    payment.note = "refunded automatically: the hold lapsed and the slot was taken before the payment arrived"
    return "refunded: slot no longer free"


async def _refunded(session: AsyncSession, charge: dict[str, Any], *, now: datetime) -> str:
    """Stripe's record of refunds; refunds we made are already counted, so take the larger amount.
    It may arrive before the success event: the amount is kept and the success then finds the money
    already returned."""
    payment = await _payment_of(session, {"id": charge.get("payment_intent")})
    if payment is None:
        return "unknown payment"
    refunded = min(int(charge.get("amount_refunded") or 0), payment.amount_minor)
    if refunded > payment.refunded_minor:
        payment.refunded_minor, payment.updated_at = refunded, now
    if payment.refunded_minor == payment.amount_minor:
        payment.status = PaymentStatus.REFUNDED
    return "refund recorded"


async def _failed(session: AsyncSession, intent: dict[str, Any], *, now: datetime) -> str:
    payment = await _payment_of(session, intent)
    if payment is None:
        return "unknown payment"
    if payment.status == PaymentStatus.REQUIRES_PAYMENT:
        payment.status, payment.updated_at = PaymentStatus.FAILED, now
    return "payment failed; the hold lapses at its expiry"
