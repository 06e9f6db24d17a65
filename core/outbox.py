"""The transactional outbox: what happened, written in the same transaction as the change itself, and
one delivery per recipient that ``deskline worker`` makes at least once. A delivery is retried with
exponential backoff and jitter for three days (Stripe's own promise), every attempt recorded, then
left as ``dead`` for an admin to redeliver. Nothing here talks to the outside; the worker does."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from core.db import enum_check, enum_field, id_field, utc_field, uuid_fk
from core.pagination import Page, paginate
from core.webhooks import subscribed_to

HORIZON = timedelta(days=3)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after the horizon, or refused for good; an admin may redeliver
    SKIPPED = "skipped"  # no longer true when it came due (a reminder for a session cancelled or moved)


class OutboxEvent(SQLModel, table=True):
    """One thing that happened, as a versioned JSON document (``type`` and ``version`` name its schema)."""

    __tablename__ = "core_outbox_event"

    id: uuid.UUID = id_field()
    type: str = Field(max_length=64, index=True)
    version: int = Field(default=1)
    subject_id: uuid.UUID | None = Field(default=None, index=True)
    organization_id: uuid.UUID | None = Field(default=None)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # Any: the event's document
    created_at: datetime = utc_field()


class Delivery(SQLModel, table=True):
    """The event for one recipient over one channel; claimed by one worker at a time (``locked_until``)."""

    __tablename__ = "core_outbox_delivery"
    __table_args__ = (
        enum_check("status", DeliveryStatus),
        sa.Index("ix_core_outbox_delivery_due", "status", "deliver_after"),
    )

    id: uuid.UUID = id_field()
    event_id: uuid.UUID = uuid_fk("core_outbox_event.id", ondelete="CASCADE")
    channel: str = Field(max_length=16)  # email | webhook (the recipient is then the subscription id)
    recipient: str = Field(max_length=320)
    locale: str = Field(default="en", max_length=8)
    status: DeliveryStatus = enum_field(DeliveryStatus)
    attempts: int = Field(default=0)
    deliver_after: datetime = utc_field()
    locked_until: datetime | None = utc_field(nullable=True)
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = utc_field(nullable=True)
    retry_until: datetime = utc_field()  # after this, a failure makes the delivery dead
    created_at: datetime = utc_field()


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "core_outbox_attempt"

    id: uuid.UUID = id_field()
    delivery_id: uuid.UUID = uuid_fk("core_outbox_delivery.id", ondelete="CASCADE")
    at: datetime = utc_field()
    ok: bool
    error: str | None = Field(default=None, max_length=500)


@dataclass(frozen=True)
class Recipient:
    address: str
    locale: str = "en"
    channel: str = "email"


def locale_of(language: str | None) -> str:
    return "ru" if (language or "").lower().startswith("ru") else "en"


async def emit(
    session: AsyncSession,
    type: str,
    payload: dict[str, Any],  # Any: the event's JSON document
    *,
    now: datetime,
    recipients: list[Recipient],
    subject_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    deliver_after: datetime | None = None,
) -> OutboxEvent:
    """Record an event and its deliveries in the caller's transaction: they commit with the change."""
    event = OutboxEvent(
        type=type, subject_id=subject_id, organization_id=organization_id, payload=payload, created_at=now
    )
    session.add(event)
    await session.flush()  # the deliveries refer to it (no ORM relationship orders the inserts)
    recipients = recipients + [
        Recipient(str(s.id), "en", channel="webhook") for s in await subscribed_to(session, type)
    ]
    session.add_all(
        Delivery(
            event_id=event.id,
            channel=r.channel,
            recipient=r.address,
            locale=r.locale,
            status=DeliveryStatus.PENDING,
            deliver_after=deliver_after or now,
            retry_until=(deliver_after or now) + HORIZON,
            created_at=now,
        )
        for r in recipients
    )
    return event


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
    delivery = await session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return delivery
    delivery.attempts += 1
    delivery.locked_until = None
    session.add(DeliveryAttempt(delivery_id=delivery.id, at=now, ok=ok, error=error))
    if ok:
        delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.DELIVERED, now, None
    else:
        delivery.last_error = error
        retry_at = next_attempt(delivery.attempts, now)
        if final or retry_at > delivery.retry_until:
            delivery.status = DeliveryStatus.DEAD
        else:
            delivery.deliver_after = retry_at
    await session.flush()
    return delivery


async def skip(session: AsyncSession, delivery_id: uuid.UUID, reason: str, *, now: datetime) -> None:
    delivery = await session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is not None and delivery.status == DeliveryStatus.PENDING:
        delivery.status, delivery.last_error, delivery.locked_until = DeliveryStatus.SKIPPED, reason, None
        delivery.delivered_at = now
        await session.flush()


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
            col(Delivery.channel) == "webhook", col(Delivery.recipient) == str(webhook_subscription_id)
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
