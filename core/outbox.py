"""The transactional outbox's entry point: what happened, written in the same transaction as the change
itself, as one row per event. Nothing here talks to the outside or knows who is told: the
notifications part (its catalog of events, their audiences, mail and webhooks) fans each event out and
delivers it after the commit, at least once.

A line raises an event through its own ``notices`` module with ``emit(session, SomethingHappened(...))``;
each event type is a ``Event`` subclass naming its ``type`` and carrying its document (its fields).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from core.db import id_field, insert_row, new_row, utc_field


class Event(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A versioned document of something that happened. Subclasses are the event types."""

    type: ClassVar[str]
    version: ClassVar[int] = 1


class OutboxEvent(SQLModel, table=True):
    """One thing that happened, as a versioned JSON document (``type`` and ``version`` name its schema).
    ``fanned_out_at`` is set once its deliveries exist; ``deliver_after`` holds them back (a reminder)."""

    __tablename__ = "core_outbox_event"
    __table_args__ = (
        sa.Index(
            "ix_core_outbox_event_to_fan_out",
            "created_at",
            sqlite_where=sa.text("fanned_out_at IS NULL"),
            postgresql_where=sa.text("fanned_out_at IS NULL"),
        ),
    )

    id: uuid.UUID = id_field()
    type: str = Field(max_length=64, index=True)
    version: int = Field(default=1)
    subject_id: uuid.UUID | None = Field(default=None, index=True)
    organization_id: uuid.UUID | None = Field(default=None)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # Any: the event's document
    created_at: datetime = utc_field()
    deliver_after: datetime | None = utc_field(nullable=True)
    fanned_out_at: datetime | None = utc_field(nullable=True)


async def emit(
    session: AsyncSession,
    event: Event,
    *,
    now: datetime,
    subject_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    deliver_after: datetime | None = None,
) -> OutboxEvent:
    """Record an event in the caller's transaction: it commits (or rolls back) with the change. Who is
    told, and how, is decided after the commit."""
    row = new_row(
        OutboxEvent,
        type=event.type,
        version=event.version,
        subject_id=subject_id,
        organization_id=organization_id,
        payload=msgspec.to_builtins(event),
        created_at=now,
        deliver_after=deliver_after,
    )
    # A plain Core INSERT now rather than an object for the unit of work to flush at commit: every
    # filing raises an event, and the flush machinery (or an ORM-enabled INSERT) cost more than the
    # insert itself.
    await insert_row(session, row)
    return row
