"""Stripe webhooks: verified, stored once, tolerant of replays and of out-of-order delivery.

Each event only adds a fact to its payment (billing.settlement derives the state from the facts), so
any order of the same events, with any duplicates, ends in the same state. Money that arrives late:
a payment for a hold that lapsed confirms the booking if its slot is still free; otherwise a full
refund is owed (recorded here, made after the transaction commits) with the reason on the payment.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import stripe
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from billing.errors import WebhookRejected
from billing.models import Payment, PaymentStatus, Refund, WebhookEvent
from billing.settlement import apply_to_booking, mismatch_note, settle
from core.db import dialect_insert
from core.nesting import nesting_exceeds

TOLERANCE = timedelta(minutes=5)


def verify_stripe_signature(
    payload: bytes, signature: str | None, secret: str, *, now: datetime
) -> dict[str, Any]:
    """The event, if the ``Stripe-Signature`` is valid for our secret and recent enough."""
    if not signature:
        raise WebhookRejected("The Stripe-Signature header is missing.")
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret, tolerance=None)
        timestamp = int(dict(part.split("=", 1) for part in signature.split(",") if "=" in part)["t"])
        if nesting_exceeds(payload):
            raise ValueError("nested too deeply")
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise WebhookRejected("The webhook signature or body is not valid.") from exc
    if abs(now.timestamp() - timestamp) > TOLERANCE.total_seconds():
        raise WebhookRejected("The webhook is too old (or from the future); replays are refused.")
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or "data" not in event:
        raise WebhookRejected("The webhook body is not a Stripe event.")
    return event


@dataclass(frozen=True, slots=True)
class Received:
    outcome: str
    refunds_owed: list[uuid.UUID]  # pending refunds to ask Stripe for once this transaction commits


async def receive_stripe_event(session: AsyncSession, event: dict[str, Any], *, now: datetime) -> Received:
    """Apply an event once. Whatever order Stripe's events come in, and however often, the payment
    and its booking end in the same state (billing.settlement)."""
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
        return Received("duplicate", [])
    kind = event.get("type")
    intent_id = obj.get("payment_intent") if kind == "charge.refunded" else obj.get("id")
    payment = await _payment_of(session, intent_id, obj.get("metadata"))
    if payment is None:
        outcome, owed = ("unknown payment" if kind in HANDLED else "ignored"), None
    elif kind == "payment_intent.succeeded":
        payment.received_minor = int(obj.get("amount_received") or obj.get("amount") or 0)
        payment.received_currency = str(obj.get("currency", "")).upper()[:3]
        outcome, owed = await _follow(session, payment, kind, now=now)
    elif kind == "payment_intent.payment_failed":
        payment.failure_seen = True
        outcome, owed = await _follow(session, payment, kind, now=now)
    elif kind == "charge.refunded":
        reported = min(int(obj.get("amount_refunded") or 0), payment.amount_minor)
        payment.stripe_refunded_minor = max(payment.stripe_refunded_minor, reported)
        outcome, owed = await _follow(session, payment, kind, now=now)
    else:
        outcome, owed = "ignored", None
    await session.execute(
        sa.update(WebhookEvent).where(col(WebhookEvent.event_id) == event["id"]).values(outcome=outcome[:200])
    )
    return Received(outcome, [owed.id] if owed is not None else [])


HANDLED = {"payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"}


async def _follow(
    session: AsyncSession, payment: Payment, kind: str, *, now: datetime
) -> tuple[str, Refund | None]:
    settled = await settle(session, payment, now=now)
    outcome, owed = await apply_to_booking(session, payment, settled, now=now)
    if outcome != "recorded":
        return outcome, owed
    if payment.status == PaymentStatus.REFUNDED:
        return "already refunded", None
    if kind == "charge.refunded":
        return "refund recorded", None
    if kind == "payment_intent.payment_failed":
        if payment.status == PaymentStatus.FAILED:
            return "payment failed; the hold lapses at its expiry", None
        return "failure recorded; the payment stands", None
    if mismatch_note(payment) is not None:
        return "amount mismatch (left for staff)", None
    return "already settled", None


async def _payment_of(session: AsyncSession, intent_id: object, metadata: object) -> Payment | None:
    """The payment an event is about: by its intent, or by the payment id we put in its metadata (an
    intent whose creation was not recorded yet because the process stopped in between)."""
    if intent_id:
        found: Payment | None = (
            await session.scalars(
                sa.select(Payment)
                .where(col(Payment.stripe_payment_intent_id) == str(intent_id))
                .with_for_update()
            )
        ).first()
        if found is not None:
            return found
    payment_id = metadata.get("payment_id") if isinstance(metadata, dict) else None
    try:
        return (
            await session.get(Payment, uuid.UUID(str(payment_id)), with_for_update=True)
            if payment_id
            else None
        )
    except ValueError:
        return None
