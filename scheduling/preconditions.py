"""Access preconditions: validated against the service's checklist, secrets encrypted at rest.

A secret is shown masked to everyone. Only the assigned engineer reveals it, from one hour before
the session until it ends, and every reveal is audited. Secrets are destroyed a configured number
of days after the session ends (on read and by ``deskline scheduling purge-secrets``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, AuditEvent, events_about, record_audit
from core.crypto import KeyRing
from core.errors import FieldProblem, InvalidInput, PermissionDenied
from scheduling.bookings import get_booking
from scheduling.catalog import get_service
from scheduling.errors import IllegalBookingTransition
from scheduling.lifecycle import move
from scheduling.models import (
    CANCELLABLE,
    SESSION_LIVE,
    Booking,
    BookingStatus,
    Precondition,
    PreconditionKind,
)

MASK = "••••••"
REVEAL_FROM = timedelta(hours=1)
EDITABLE = CANCELLABLE  # until the session starts (or the booking ends)


@dataclass(frozen=True, slots=True)
class PreconditionView:
    key: str
    label_en: str
    label_ru: str
    kind: str
    required: bool
    provided: bool
    value: Any  # Any: the JSON value; secrets are masked
    destroyed: bool


def _associated(booking_id: uuid.UUID, key: str) -> bytes:
    return f"scheduling_precondition:{booking_id}:{key}".encode()


def _check(item: dict[str, Any], value: Any) -> str | None:  # Any: JSON input
    kind = PreconditionKind(item["kind"])
    if kind in {PreconditionKind.TEXT, PreconditionKind.SECRET}:
        if not isinstance(value, str) or not value.strip() or len(value) > 4000:
            return "must be non-empty text (at most 4000 characters)"
    elif kind == PreconditionKind.BOOLEAN:
        if not isinstance(value, bool):
            return "must be true or false"
    elif kind == PreconditionKind.CHOICE and value not in item.get("choices", []):
        return "must be one of: " + ", ".join(item.get("choices", []))
    return None


async def provide_preconditions(
    session: AsyncSession,
    actor: Actor,
    booking_id: uuid.UUID,
    values: dict[str, Any],
    keyring: KeyRing,
    *,
    now: datetime,
) -> Booking:
    """Store the given items (others stay as they were); a confirmed booking becomes ready when
    every required item is provided."""
    booking = await get_booking(session, actor, booking_id)
    if not actor.is_customer and not actor.is_system:
        raise PermissionDenied("The customer provides the access preconditions.")
    if booking.status not in EDITABLE:
        raise IllegalBookingTransition(f"Preconditions of a {booking.status} booking can no longer change.")
    service = await get_service(session, booking.service_id)
    checklist = {item["key"]: item for item in service.checklist}
    problems = [
        FieldProblem(key, "not on this service's checklist") for key in values if key not in checklist
    ]
    problems += [
        FieldProblem(key, msg)
        for key, value in values.items()
        if key in checklist and (msg := _check(checklist[key], value))
    ]
    if problems:
        # The detail never echoes a value: it may be a password.
        raise InvalidInput("Some preconditions do not match the checklist.", errors=problems)
    for key, value in values.items():
        row = await session.get(Precondition, (booking.id, key)) or Precondition(
            booking_id=booking.id, key=key, provided_at=now
        )
        if checklist[key]["kind"] == PreconditionKind.SECRET:
            row.value = None
            row.secret_ciphertext = keyring.encrypt(
                value.encode(), associated_data=_associated(booking.id, key)
            )
            row.secret_destroyed_at = None
        else:
            row.value, row.secret_ciphertext = json.dumps(value), None
        row.provided_at, row.provided_by = now, actor.id
        session.add(row)
    await session.flush()
    if booking.status == BookingStatus.CONFIRMED and not await missing_required(
        session, booking, service.checklist
    ):
        move(booking, BookingStatus.READY)
    booking.updated_at = now
    await session.flush()
    return booking


async def _rows(session: AsyncSession, booking_id: uuid.UUID) -> dict[str, Precondition]:
    rows = await session.scalars(sa.select(Precondition).where(col(Precondition.booking_id) == booking_id))
    return {row.key: row for row in rows.all()}


async def missing_required(
    session: AsyncSession, booking: Booking, checklist: list[dict[str, Any]]
) -> list[str]:
    provided = await _rows(session, booking.id)
    return [item["key"] for item in checklist if item.get("required") and item["key"] not in provided]


async def view_preconditions(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, *, now: datetime, retention: timedelta
) -> tuple[Booking, list[PreconditionView]]:
    """The booking and its checklist as the caller may see it (secrets masked; those past their retention
    read as destroyed). Reading writes nothing: the erasure itself happens on reveal and in the
    retention job, so a read never contends for the write lock."""
    booking = await get_booking(session, actor, booking_id)
    expired = booking.ends_at < now - retention
    service = await get_service(session, booking.service_id)
    provided = await _rows(session, booking.id)
    views = []
    for item in service.checklist:
        row = provided.get(item["key"])
        secret = item["kind"] == PreconditionKind.SECRET
        value = (
            (MASK if row and row.secret_ciphertext and not expired else None)
            if secret
            else (json.loads(row.value) if row and row.value is not None else None)
        )
        views.append(
            PreconditionView(
                key=item["key"],
                label_en=item["label_en"],
                label_ru=item["label_ru"],
                kind=item["kind"],
                required=bool(item.get("required")),
                provided=row is not None,
                value=value,
                destroyed=bool(
                    row and (row.secret_destroyed_at or (secret and expired and row.secret_ciphertext))
                ),
            )
        )
    return booking, views


async def reveal_preconditions(
    session: AsyncSession,
    actor: Actor,
    booking_id: uuid.UUID,
    keyring: KeyRing,
    *,
    now: datetime,
    retention: timedelta,
) -> dict[str, str]:
    """The assigned engineer, from one hour before the session until its end; every reveal audited."""
    booking = await get_booking(session, actor, booking_id)
    if actor.id != booking.engineer_id:
        raise PermissionDenied("Only the engineer assigned to this session can reveal its secrets.")
    reveal_from, reveal_until = reveal_window(booking)
    if not reveal_from <= now <= reveal_until:
        raise PermissionDenied(
            "Secrets are revealed from one hour before the session until it ends.",
            reveal_from=reveal_from.isoformat(),
            reveal_until=reveal_until.isoformat(),
        )
    if booking.status not in SESSION_LIVE:
        raise IllegalBookingTransition("Secrets are revealed only for a confirmed session.")
    await destroy_expired_secrets(session, now=now, retention=retention, booking_id=booking.id)
    secrets = {
        key: keyring.decrypt(row.secret_ciphertext, associated_data=_associated(booking.id, key)).decode()
        for key, row in (await _rows(session, booking.id)).items()
        if row.secret_ciphertext
    }
    await record_audit(
        session,
        actor,
        "precondition_secret_revealed",
        subject_type="booking",
        subject_id=booking.id,
        organization_id=booking.organization_id,
        now=now,
        data={"keys": sorted(secrets)},
    )
    return secrets


async def destroy_expired_secrets(
    session: AsyncSession, *, now: datetime, retention: timedelta, booking_id: uuid.UUID | None = None
) -> int:
    """Erase the ciphertext of secrets whose session ended more than ``retention`` ago."""
    ended = sa.select(col(Booking.id)).where(col(Booking.ends_at) < now - retention)
    if booking_id is not None:
        ended = ended.where(col(Booking.id) == booking_id)
    result = await session.execute(
        sa.update(Precondition)
        .where(
            col(Precondition.booking_id).in_(ended),
            col(Precondition.secret_ciphertext).is_not(None),
        )
        .values(secret_ciphertext=None, secret_destroyed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def reveal_window(booking: Booking) -> tuple[datetime, datetime]:
    """When the assigned engineer may reveal the booking's secrets: one hour before it until it ends."""
    return booking.starts_at - REVEAL_FROM, booking.ends_at


async def reveals_of(session: AsyncSession, booking: Booking) -> tuple[datetime, datetime, list[AuditEvent]]:
    """The reveal window and every reveal recorded so far (the audit trail is the record)."""
    found = await events_about(session, "booking", booking.id, "precondition_secret_revealed")
    return *reveal_window(booking), found
