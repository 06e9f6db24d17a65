"""Idempotency keys: a retried creation returns the stored response instead of creating twice.

Rules (DESIGN.md): same key and same request → the stored response; same key, different request →
refused; the first request still running → refused as in flight. The record is claimed in its own
committed transaction (so a concurrent retry sees it), completed in the request's transaction (so
it is stored exactly when the creation is), and released if the request fails.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from core.db import utc_field
from core.errors import Conflict, InvalidInput

IN_FLIGHT_TIMEOUT = timedelta(minutes=5)  # a claim older than this was abandoned (the process died)
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


class KeyReused(InvalidInput):
    """The key was used before for a different request."""


class RequestInFlight(Conflict):
    """The first request with this key has not finished yet."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: dict[str, Any]  # Any: the JSON body as first returned


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


async def claim(
    session: AsyncSession, principal: str, key: str, print_: str, *, now: datetime
) -> StoredResponse | None:
    """Claim the key; return the stored response if the work was done before.

    Run it in its own committed transaction where writers run concurrently (PostgreSQL), so that a
    concurrent retry sees the claim; where writers are serialised anyway (SQLite), in the request's.
    """
    existing = await session.get(IdempotencyRecord, (principal, key), with_for_update=True)
    if existing is not None and existing.created_at < now - RETENTION:
        await session.delete(existing)
        await session.flush()
        existing = None
    if existing is None:
        session.add(IdempotencyRecord(principal=principal, key=key, fingerprint=print_, created_at=now))
        try:
            await session.flush()
        except IntegrityError as exc:  # another request claimed it between our read and insert
            raise RequestInFlight("A request with this Idempotency-Key is still being processed.") from exc
        return None
    if existing.fingerprint != print_:
        raise KeyReused("This Idempotency-Key was used for a different request; use a new key for new work.")
    if existing.completed_at is None:
        if existing.created_at > now - IN_FLIGHT_TIMEOUT:
            raise RequestInFlight("A request with this Idempotency-Key is still being processed.")
        existing.created_at = now  # the earlier attempt was abandoned: this one takes over
        return None
    assert existing.response_status is not None
    assert existing.response_body is not None
    return StoredResponse(existing.response_status, existing.response_body)


async def complete(
    session: AsyncSession, principal: str, key: str, status: int, body: dict[str, Any], *, now: datetime
) -> None:
    """Store the response in the request's own transaction: it exists exactly when the creation does."""
    await session.execute(
        sa.update(IdempotencyRecord)
        .where(col(IdempotencyRecord.principal) == principal, col(IdempotencyRecord.key) == key)
        .values(completed_at=now, response_status=status, response_body=body)
    )


async def release(session: AsyncSession, principal: str, key: str) -> None:
    """The request failed: forget the claim so a retry with the same key can run."""
    await session.execute(
        sa.delete(IdempotencyRecord).where(
            col(IdempotencyRecord.principal) == principal,
            col(IdempotencyRecord.key) == key,
            col(IdempotencyRecord.completed_at).is_(None),
        )
    )
