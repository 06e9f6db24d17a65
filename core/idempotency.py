"""Idempotency keys: a retried creation returns the stored response instead of creating twice.

Rules (DESIGN.md): same key and same request → the stored response; same key, different request →
refused; the first request still running → refused as in flight. The record is claimed in a short
transaction of its own on the request's connection (never a second one), so a concurrent retry sees
it at once. A claim is a lease held by one attempt: work that calls outside services records its
progress on the claim, so a retry after the first attempt died (its lease lapsed) takes over and
finishes what was started. The response is stored in the transaction that finishes the work, only
while the attempt still holds the claim, and a failed attempt releases the key.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from core.db import dialect_insert, utc_field
from core.errors import Conflict, InvalidInput

# How long an attempt owns its key before a retry may take over (the attempt is presumed dead): longer
# than any request takes, including its calls to outside services with their timeouts.
DEFAULT_LEASE = timedelta(minutes=2)
RETENTION = timedelta(days=1)


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "core_idempotency_key"

    principal: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    created_at: datetime = utc_field()
    completed_at: datetime | None = utc_field(nullable=True)
    response_status: int | None = Field(default=None)
    response_body: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    # The attempt that holds the key, and until when; a lapsed lease may be taken over.
    attempt: uuid.UUID | None = Field(default=None)
    locked_until: datetime | None = utc_field(nullable=True)
    # What a multi-step creation has done so far (e.g. the booking it held), for a retry to resume.
    progress: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class KeyReused(InvalidInput):
    """The key was used before for a different request."""


class RequestInFlight(Conflict):
    """The first request with this key has not finished yet."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: dict[str, Any]  # Any: the JSON body as first returned


@dataclass(slots=True)
class Claim:
    """This attempt's hold on a key, with what an abandoned earlier attempt had already done."""

    principal: str
    key: str
    attempt: uuid.UUID
    progress: dict[str, Any] = field(default_factory=dict)  # Any: JSON values


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _in_flight(locked_until: datetime | None, now: datetime) -> RequestInFlight:
    wait = max(1, int((locked_until - now).total_seconds()) + 1) if locked_until else 1
    return RequestInFlight(
        "A request with this Idempotency-Key is still being processed; retry after it finishes.",
        retry_after_seconds=wait,
        headers={"Retry-After": wait},
    )


async def claim(
    session: AsyncSession,
    principal: str,
    key: str,
    print_: str,
    *,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
) -> Claim | StoredResponse:
    """Claim the key for a new attempt, or return the response stored by the attempt that finished.

    Run it in a transaction of its own that commits before the work starts, so that a concurrent
    retry sees the claim. Raises ``KeyReused`` for a different request under the same key and
    ``RequestInFlight`` while another attempt holds a live lease.
    """
    attempt = uuid.uuid4()
    key_matches = (col(IdempotencyRecord.principal) == principal, col(IdempotencyRecord.key) == key)
    inserted = await session.execute(
        dialect_insert(session, IdempotencyRecord)
        .values(
            principal=principal,
            key=key,
            fingerprint=print_,
            created_at=now,
            attempt=attempt,
            locked_until=now + lease,
            progress={},
        )
        .on_conflict_do_nothing(index_elements=["principal", "key"])
        .returning(col(IdempotencyRecord.key))
    )
    if inserted.scalar_one_or_none() is not None:
        return Claim(principal, key, attempt)
    existing = (
        await session.scalars(sa.select(IdempotencyRecord).where(*key_matches).with_for_update())
    ).one()
    if existing.created_at < now - RETENTION:  # forgotten: the key starts afresh
        existing.fingerprint, existing.created_at, existing.completed_at = print_, now, None
        existing.response_status = existing.response_body = None
        existing.attempt, existing.locked_until, existing.progress = attempt, now + lease, {}
        await session.flush()
        return Claim(principal, key, attempt)
    if existing.fingerprint != print_:
        raise KeyReused("This Idempotency-Key was used for a different request; use a new key for new work.")
    if existing.completed_at is not None:
        assert existing.response_status is not None
        assert existing.response_body is not None
        return StoredResponse(existing.response_status, existing.response_body)
    if existing.locked_until is not None and existing.locked_until > now:
        raise _in_flight(existing.locked_until, now)
    # The earlier attempt was abandoned (its process died): this one takes over where it stopped.
    existing.attempt, existing.locked_until = attempt, now + lease
    await session.flush()
    return Claim(principal, key, attempt, dict(existing.progress or {}))


def _held_by(claim_: Claim) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        col(IdempotencyRecord.principal) == claim_.principal,
        col(IdempotencyRecord.key) == claim_.key,
        col(IdempotencyRecord.attempt) == claim_.attempt,
        col(IdempotencyRecord.completed_at).is_(None),
    )


async def save_progress(
    session: AsyncSession, claim_: Claim, progress: dict[str, Any], *, now: datetime, lease: timedelta
) -> None:
    """Record what this attempt has done (in the transaction that did it) and renew its lease."""
    claim_.progress = {**claim_.progress, **progress}
    result = await session.execute(
        sa.update(IdempotencyRecord)
        .where(*_held_by(claim_))
        .values(progress=claim_.progress, locked_until=now + lease)
    )
    if not result.rowcount:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
        raise _in_flight(None, now)


async def complete(
    session: AsyncSession, claim_: Claim, status: int, body: dict[str, Any], *, now: datetime
) -> None:
    """Store the response in the transaction that finishes the work: it exists exactly when the work
    does. Refused if another attempt took the key over meanwhile (then this work rolls back)."""
    result = await session.execute(
        sa.update(IdempotencyRecord)
        .where(*_held_by(claim_))
        .values(completed_at=now, response_status=status, response_body=body, locked_until=None)
    )
    if not result.rowcount:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
        raise _in_flight(None, now)


async def end_lease(session: AsyncSession, claim_: Claim, *, now: datetime) -> None:
    """This attempt stops early but its progress stands: a retry may take over at once."""
    await session.execute(sa.update(IdempotencyRecord).where(*_held_by(claim_)).values(locked_until=now))


async def release(session: AsyncSession, claim_: Claim) -> None:
    """The attempt failed: forget the claim so a retry with the same key can run."""
    await session.execute(sa.delete(IdempotencyRecord).where(*_held_by(claim_)))
