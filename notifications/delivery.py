"""Delivering the outbox: each event is fanned out once, after its commit, into one delivery per
recipient (the audience its catalog entry names, and every active webhook subscription to its type);
each delivery is made at least once. A delivery is retried with exponential backoff and jitter for three
days (Stripe's own promise), every attempt recorded, then left as ``dead`` for an admin to redeliver.
Nothing here talks to the outside; the worker does."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.db import table_of
from core.ids import new_id
from core.outbox import OutboxEvent
from core.pagination import Page, paginate
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, WebhookSubscription

HORIZON = timedelta(days=3)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)
WEBHOOK = "webhook"


@dataclass(frozen=True)
class Recipient:
    address: str
    locale: str = "en"
    channel: str = "email"
    time_zone: str | None = None  # the recipient organisation's zone; None: the vendor's


def locale_of(language: str | None) -> str:
    return "ru" if (language or "").lower().startswith("ru") else "en"


async def events_to_fan_out(session: AsyncSession, *, limit: int) -> list[OutboxEvent]:
    """Events whose deliveries do not exist yet, oldest first, locked against other workers (PostgreSQL
    skips rows another worker holds; SQLite runs one worker)."""
    statement = (
        sa.select(OutboxEvent)
        .where(col(OutboxEvent.fanned_out_at).is_(None))
        .order_by(col(OutboxEvent.created_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(statement)).all())


async def subscriptions_to(session: AsyncSession, event_types: set[str]) -> dict[str, list[uuid.UUID]]:
    """The active webhook subscriptions of each of these event types, in one query."""
    rows = await session.execute(
        sa.select(col(WebhookSubscription.id), col(WebhookSubscription.event_types)).where(
            col(WebhookSubscription.active)
        )
    )
    found: dict[str, list[uuid.UUID]] = {t: [] for t in event_types}
    for subscription_id, types in rows.all():
        for event_type in set(types) & event_types:
            found[event_type].append(subscription_id)
    return found


def deliveries_of(
    event: OutboxEvent, recipients: Sequence[Recipient], *, now: datetime
) -> list[dict[str, object]]:
    """The delivery rows of one event (as values for one multi-row insert)."""
    due = event.deliver_after or event.created_at
    return [
        {
            "id": new_id(),
            "event_id": event.id,
            "channel": r.channel,
            "recipient": r.address,
            "locale": r.locale,
            "time_zone": r.time_zone,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "deliver_after": due,
            "retry_until": max(due, now) + HORIZON,
            "created_at": now,
        }
        for r in recipients
    ]


async def record_fan_out(
    session: AsyncSession, events: Sequence[OutboxEvent], rows: list[dict[str, object]], *, now: datetime
) -> None:
    """Store the deliveries and mark their events fanned out, in the caller's transaction."""
    if rows:
        await session.execute(sa.insert(table_of(Delivery)), rows)
    for event in events:
        event.fanned_out_at = now
    await session.flush()


def next_attempt(attempts: int, now: datetime, *, rng: random.Random | None = None) -> datetime:
    """Exponential backoff with full jitter: 30 s, 1 min, 2 min, … capped at 6 h between tries."""
    wait: timedelta = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)
    share: float = rng.random() if rng is not None else random.random()  # noqa: S311 - jitter, not secrecy
    return now + wait * (0.5 + share / 2)


async def claim(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int
) -> list[tuple[Delivery, OutboxEvent]]:
    """Take up to ``limit`` due deliveries for ``lease``: another worker skips them meanwhile (on
    PostgreSQL the rows are locked with SKIP LOCKED while being taken; SQLite runs one worker)."""
    statement = (
        sa.select(Delivery)
        .where(
            col(Delivery.status) == DeliveryStatus.PENDING,
            col(Delivery.deliver_after) <= now,
            sa.or_(col(Delivery.locked_until).is_(None), col(Delivery.locked_until) < now),
        )
        .order_by(col(Delivery.deliver_after))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    taken = list((await session.scalars(statement)).all())
    for delivery in taken:
        delivery.locked_until = now + lease
    events = {
        e.id: e
        for e in (
            await session.scalars(
                sa.select(OutboxEvent).where(col(OutboxEvent.id).in_({d.event_id for d in taken}))
            )
        ).all()
    }
    await session.flush()
    return [(d, events[d.event_id]) for d in taken]


@dataclass(frozen=True, slots=True)
class Attempt:
    """What sending one delivery came to: delivered, or the error and whether it is final."""

    delivery_id: uuid.UUID
    ok: bool
    error: str | None = None
    final: bool = False


async def settle(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    *,
    ok: bool,
    error: str | None,
    now: datetime,
    final: bool = False,
) -> Delivery | None:
    """Record one attempt and what it means: delivered, a later retry, or dead (past the horizon, or
    ``final``: refused for good)."""
    settled = await settle_all(session, [Attempt(delivery_id, ok, error, final)], now=now)
    return settled[0] if settled else await session.get(Delivery, delivery_id)


async def settle_all(session: AsyncSession, attempts: list[Attempt], *, now: datetime) -> list[Delivery]:
    """Record a batch of attempts in a few statements (one read of the rows, locked; their updates and
    the attempts written together); the deliveries that were still pending, settled."""
    if not attempts:
        return []
    pending = await _locked_pending(session, [a.delivery_id for a in attempts])
    settled = []
    for attempt in attempts:
        delivery = pending.get(attempt.delivery_id)
        if delivery is None:
            continue
        delivery.attempts += 1
        delivery.locked_until = None
        session.add(DeliveryAttempt(delivery_id=delivery.id, at=now, ok=attempt.ok, error=attempt.error))
        if attempt.ok:
            delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.DELIVERED, now, None
        else:
            delivery.last_error = attempt.error
            retry_at = next_attempt(delivery.attempts, now)
            if attempt.final or retry_at > delivery.retry_until:
                delivery.status = DeliveryStatus.DEAD
            else:
                delivery.deliver_after = retry_at
        settled.append(delivery)
    await session.flush()
    return settled


async def skip(session: AsyncSession, delivery_id: uuid.UUID, reason: str, *, now: datetime) -> None:
    await skip_all(session, {delivery_id: reason}, now=now)


async def skip_all(session: AsyncSession, reasons: dict[uuid.UUID, str], *, now: datetime) -> None:
    """Deliveries whose event no longer holds (the owning line said why): skipped, not sent."""
    for delivery_id, delivery in (await _locked_pending(session, list(reasons))).items():
        delivery.status, delivery.last_error, delivery.locked_until = (
            DeliveryStatus.SKIPPED,
            reasons[delivery_id],
            None,
        )
        delivery.delivered_at = now
    await session.flush()


async def _locked_pending(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Delivery]:
    if not ids:
        return {}
    statement = (
        sa.select(Delivery)
        .where(col(Delivery.id).in_(ids), col(Delivery.status) == DeliveryStatus.PENDING)
        .order_by(col(Delivery.id))  # one lock order for every caller
        .with_for_update()
    )
    return {d.id: d for d in (await session.scalars(statement)).all()}


async def redeliver(session: AsyncSession, delivery_id: uuid.UUID, *, now: datetime) -> Delivery | None:
    """An admin sends a dead (or delivered) delivery again: pending from now, with a fresh horizon."""
    delivery = await session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        return None
    delivery.status, delivery.deliver_after, delivery.locked_until = DeliveryStatus.PENDING, now, None
    delivery.retry_until = now + HORIZON  # a fresh three days from the redelivery
    await session.flush()
    return delivery


async def list_deliveries(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    status: DeliveryStatus | None = None,
    webhook_subscription_id: uuid.UUID | None = None,
) -> Page[Delivery]:
    """Deliveries newest first, of one status and of one webhook subscription if asked."""
    statement = sa.select(Delivery)
    if status is not None:
        statement = statement.where(col(Delivery.status) == status)
    if webhook_subscription_id is not None:
        statement = statement.where(
            col(Delivery.channel) == WEBHOOK, col(Delivery.recipient) == str(webhook_subscription_id)
        )
    return await paginate(session, statement, col(Delivery.id), limit=limit, cursor=cursor)


async def event_types(session: AsyncSession, deliveries: list[Delivery]) -> dict[uuid.UUID, str]:
    """The event type of each delivery's event, in one query."""
    rows = await session.execute(
        sa.select(col(OutboxEvent.id), col(OutboxEvent.type)).where(
            col(OutboxEvent.id).in_({d.event_id for d in deliveries})
        )
    )
    return {event_id: event_type for event_id, event_type in rows.all()}
