"""The audit trail: every sensitive action appended in the same transaction as the change."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.actor import Actor
from accounts.models import AuditEvent
from core.pagination import Page, paginate


async def record_audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    subject_type: str,
    subject_id: uuid.UUID | str,
    now: datetime,
    organization_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,  # Any: JSON-serialisable details of the action
) -> AuditEvent:
    """Append one audit event; it commits or rolls back with the change it describes."""
    event = AuditEvent(
        occurred_at=now,
        actor_type=actor.kind,
        actor_id=str(actor.id),
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        organization_id=organization_id,
        data=data or {},
    )
    session.add(event)
    await session.flush()
    return event


async def events_about(
    session: AsyncSession, subject_type: str, subject_id: uuid.UUID | str, action: str
) -> list[AuditEvent]:
    """One subject's audit events of one kind, oldest first (what a page about the subject shows)."""
    rows = await session.scalars(
        sa.select(AuditEvent)
        .where(
            col(AuditEvent.subject_type) == subject_type,
            col(AuditEvent.subject_id) == str(subject_id),
            col(AuditEvent.action) == action,
        )
        .order_by(col(AuditEvent.occurred_at))
    )
    return list(rows.all())


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    organization_id: uuid.UUID | None = None
    actor_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_events(
    session: AsyncSession, flt: AuditFilter, *, limit: int, cursor: str | None
) -> Page[AuditEvent]:
    statement = sa.select(AuditEvent)
    conditions = {
        col(AuditEvent.action): flt.action,
        col(AuditEvent.subject_type): flt.subject_type,
        col(AuditEvent.subject_id): flt.subject_id,
        col(AuditEvent.organization_id): flt.organization_id,
        col(AuditEvent.actor_id): flt.actor_id,
    }
    for column, value in conditions.items():
        if value is not None:
            statement = statement.where(column == value)
    if flt.since is not None:
        statement = statement.where(col(AuditEvent.occurred_at) >= flt.since)
    if flt.until is not None:
        statement = statement.where(col(AuditEvent.occurred_at) < flt.until)
    return await paginate(session, statement, col(AuditEvent.id), limit=limit, cursor=cursor)
