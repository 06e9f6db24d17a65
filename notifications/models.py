"""Tables of the notifications part: one delivery per recipient of an event (an e-mail address, or a
webhook subscription) with every attempt at it, and the integrations' webhook subscriptions. (Their
table names predate this part and keep the ``core_`` prefix.)"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import enum_check, enum_field, id_field, utc_field, uuid_fk


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after the horizon, or refused for good; an admin may redeliver
    SKIPPED = "skipped"  # no longer true when it came due (a reminder for a session cancelled or moved)


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
    # The recipient organisation's IANA zone: every time in its mail is given in it (None: the vendor's).
    time_zone: str | None = Field(default=None, max_length=64)
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


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "core_webhook_subscription"

    id: uuid.UUID = id_field()
    owner_id: uuid.UUID = Field(index=True)  # the integration client (or admin) that made it
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    secret_encrypted: str = Field(max_length=500)
    previous_secret_encrypted: str | None = Field(default=None, max_length=500)
    previous_valid_until: datetime | None = utc_field(nullable=True)
    active: bool = Field(default=True)
    disabled_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
