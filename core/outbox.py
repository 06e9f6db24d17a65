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
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from core.db import column_values, id_field, insert_row, new_row, utc_field


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


def event_row(
    event: Event,
    *,
    now: datetime,
    subject_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    deliver_after: datetime | None = None,
) -> OutboxEvent:
    """The row that records ``event``: what ``emit`` inserts, or what a statement of the caller's inserts
    with the change itself (``completed_document``)."""
    return new_row(
        OutboxEvent,
        type=event.type,
        version=event.version,
        subject_id=subject_id,
        organization_id=organization_id,
        payload=msgspec.to_builtins(event),
        created_at=now,
        deliver_after=deliver_after,
    )


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
    row = event_row(
        event, now=now, subject_id=subject_id, organization_id=organization_id, deliver_after=deliver_after
    )
    # A plain Core INSERT now rather than an object for the unit of work to flush at commit: every
    # filing raises an event, and the flush machinery (or an ORM-enabled INSERT) cost more than the
    # insert itself.
    await insert_row(session, row)
    return row


def document_params(row: OutboxEvent, *, prefix: str) -> dict[str, Any]:  # Any: column values
    """The row's values as parameters of a statement built with ``completed_document`` (the document as
    JSON text)."""
    values = column_values(row, prefix=prefix)
    values[f"{prefix}payload"] = msgspec.json.encode(row.payload).decode()
    return values


def completed_document(prefix: str, fields: dict[str, Any]) -> sa.ColumnElement[Any]:  # Any: SQL values
    """PostgreSQL: an event row's document (bound as ``{prefix}payload``) with ``fields`` set from SQL
    expressions, for a statement that writes the event with the change whose values it only learns
    as it runs (a data-modifying CTE: the number a ticket is given, say). One round trip fewer than an
    ``emit`` after the statement."""
    document = sa.cast(sa.bindparam(f"{prefix}payload", type_=sa.Text()), postgresql.JSONB)
    completed = document.op("||")(sa.func.jsonb_build_object(*(x for item in fields.items() for x in item)))
    return sa.cast(completed, postgresql.JSON)
