"""Tables of the scheduling area."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import enum_check, enum_field, id_field, utc_field, uuid_fk

# High-water marks (core.counters) that bound how far before a window a row overlapping it can begin,
# so reading a window scans the window, not the history: the widest span a booking ever blocked (its
# service's buffers and duration) and the longest busy interval ever imported, in minutes.
WIDEST_BOOKING_MINUTES = "scheduling.widest_booking_minutes"
WIDEST_BUSY_MINUTES = "scheduling.widest_busy_minutes"


class PreconditionKind(StrEnum):
    TEXT = "text"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    SECRET = "secret"  # noqa: S105 - the name of a precondition kind


class BookingStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    READY = "ready"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


B = BookingStatus
# The booking lifecycle, like a ticket's: every status a booking may move to from each status. The
# domain applies it (scheduling.lifecycle.move); every set of states below is derived from it.
TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    B.PENDING_PAYMENT: frozenset({B.CONFIRMED, B.READY, B.CANCELLED, B.EXPIRED}),
    B.CONFIRMED: frozenset({B.READY, B.IN_PROGRESS, B.CANCELLED, B.NO_SHOW}),
    B.READY: frozenset({B.IN_PROGRESS, B.CANCELLED, B.NO_SHOW}),
    B.IN_PROGRESS: frozenset({B.COMPLETED}),
    B.EXPIRED: frozenset({B.CONFIRMED, B.READY}),  # its payment came late and the slot was still free
    B.COMPLETED: frozenset(),
    B.NO_SHOW: frozenset(),
    B.CANCELLED: frozenset(),
}


def _reachable(start: BookingStatus) -> frozenset[BookingStatus]:
    found, frontier = {start}, [start]
    while frontier:
        for following in TRANSITIONS[frontier.pop()] - found:
            found.add(following)
            frontier.append(following)
    return frozenset(found)


FINAL = frozenset(s for s, following in TRANSITIONS.items() if not following)
# No longer holding the engineer's time: cancelled for good, or a hold that lapsed unpaid.
RELEASED = frozenset({B.CANCELLED, B.EXPIRED})
# Holding the engineer's time: the database refuses overlaps among these (exclusion constraint).
ACTIVE_BOOKING_STATES = tuple(s for s in BookingStatus if s not in FINAL | RELEASED)
CANCELLABLE = frozenset(s for s, following in TRANSITIONS.items() if B.CANCELLED in following)
STARTABLE = frozenset(s for s, following in TRANSITIONS.items() if B.IN_PROGRESS in following)
# A confirmed session still to come or under way: its engineer may see its secrets.
SESSION_LIVE = STARTABLE | {B.IN_PROGRESS}
# Paid for (or funded) and moved on from there: a payment that arrives again changes nothing.
CONFIRMED_ONWARDS = _reachable(B.CONFIRMED) - {B.CANCELLED}


class Service(SQLModel, table=True):
    """A catalog entry sales define: what a remote session costs, how long it takes, what it needs."""

    __tablename__ = "scheduling_service"
    __table_args__ = (
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
        sa.CheckConstraint("price_minor >= 0", name="price_not_negative"),
    )

    id: uuid.UUID = id_field()
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    duration_minutes: int
    price_minor: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    min_notice_minutes: int = Field(default=120)
    buffer_before_minutes: int = Field(default=0)
    buffer_after_minutes: int = Field(default=15)
    full_refund_hours_before: int = Field(default=24)
    required_skills: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    checklist: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    active: bool = Field(default=True)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class Engineer(SQLModel, table=True):
    """A support engineer's scheduling profile: zone, weekly hours, skills, holiday calendar."""

    __tablename__ = "scheduling_engineer"

    user_id: uuid.UUID = Field(foreign_key="accounts_user.id", primary_key=True)
    time_zone: str = Field(max_length=64)
    weekly_hours: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # {"0": [["09:00","18:00"]]}
    skills: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    holiday_calendar: str = Field(default="default", max_length=64)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class BlockedRevision(SQLModel, table=True):
    """A new random value whenever the engineer's bookings or busy intervals change, written by the
    database's triggers (migration 0029), never by the application: what availability remembers is
    keyed by it (scheduling/blocked.py). An engineer without a row is at revision 0."""

    __tablename__ = "scheduling_blocked_revision"

    engineer_id: uuid.UUID = Field(
        foreign_key="scheduling_engineer.user_id", primary_key=True, ondelete="CASCADE"
    )
    revision: int = Field(sa_type=sa.BigInteger)


class BusySource(SQLModel, table=True):
    """An imported calendar of an engineer; re-importing a source replaces its busy intervals."""

    __tablename__ = "scheduling_busy_source"
    __table_args__ = (
        sa.UniqueConstraint("engineer_id", "name", name="uq_scheduling_busy_source_engineer_name"),
    )

    id: uuid.UUID = id_field()
    engineer_id: uuid.UUID = uuid_fk("scheduling_engineer.user_id", ondelete="CASCADE")
    name: str = Field(max_length=200)
    url: str | None = Field(default=None, max_length=2000)
    imported_at: datetime = utc_field()
    interval_count: int = Field(default=0)


class BusyInterval(SQLModel, table=True):
    __tablename__ = "scheduling_busy_interval"
    __table_args__ = (sa.Index("ix_scheduling_busy_interval_engineer_start", "engineer_id", "starts_at"),)

    id: uuid.UUID = id_field()
    engineer_id: uuid.UUID = uuid_fk("scheduling_engineer.user_id", index=False, ondelete="CASCADE")
    source_id: uuid.UUID = uuid_fk("scheduling_busy_source.id", ondelete="CASCADE")
    starts_at: datetime = utc_field()
    ends_at: datetime = utc_field()


class Booking(SQLModel, table=True):
    """A remote session on an engineer's calendar, from hold to completion.

    ``blocked_from``/``blocked_until`` include the service's buffers: that is the time the engineer
    cannot be booked again, and what the database keeps from overlapping.
    """

    __tablename__ = "scheduling_booking"
    __table_args__ = (
        enum_check("status", BookingStatus),
        sa.CheckConstraint("starts_at < ends_at", name="ends_after_start"),
        sa.CheckConstraint(
            "blocked_from <= starts_at AND ends_at <= blocked_until", name="blocked_covers_session"
        ),
        sa.Index("ix_scheduling_booking_engineer_blocked", "engineer_id", "blocked_from"),
    )

    id: uuid.UUID = id_field()
    number: int = Field(unique=True)
    service_id: uuid.UUID = uuid_fk("scheduling_service.id")
    organization_id: uuid.UUID = uuid_fk("accounts_organization.id")
    booked_by: uuid.UUID = uuid_fk("accounts_user.id", index=False)
    engineer_id: uuid.UUID = uuid_fk("scheduling_engineer.user_id", index=False)
    status: BookingStatus = enum_field(BookingStatus, index=True)
    funding: str = Field(default="payment", max_length=32)
    time_zone: str = Field(max_length=64)
    starts_at: datetime = utc_field()
    ends_at: datetime = utc_field()
    blocked_from: datetime = utc_field()
    blocked_until: datetime = utc_field()
    hold_expires_at: datetime | None = utc_field(nullable=True)
    price_minor: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    ics_sequence: int = Field(default=0)
    cancelled_at: datetime | None = utc_field(nullable=True)
    cancelled_by: uuid.UUID | None = Field(default=None)
    cancellation_refund: str | None = Field(default=None, max_length=16)  # full | none
    engineer_report: str | None = Field(default=None, sa_type=sa.Text)
    started_at: datetime | None = utc_field(nullable=True)
    finished_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    revision: int = Field(default=1)


class Precondition(SQLModel, table=True):
    """One provided checklist item of a booking; secrets only as AES-GCM ciphertext."""

    __tablename__ = "scheduling_precondition"

    booking_id: uuid.UUID = Field(foreign_key="scheduling_booking.id", primary_key=True, ondelete="CASCADE")
    key: str = Field(primary_key=True, max_length=64)
    value: str | None = Field(default=None, sa_type=sa.Text)  # JSON-encoded for non-secret kinds
    secret_ciphertext: str | None = Field(default=None, sa_type=sa.Text)
    secret_destroyed_at: datetime | None = utc_field(nullable=True)
    provided_at: datetime = utc_field()
    provided_by: uuid.UUID | None = Field(default=None)


class CalendarFeed(SQLModel, table=True):
    """A personal ICS feed, addressed by an unguessable token stored only as its hash."""

    __tablename__ = "scheduling_calendar_feed"

    id: uuid.UUID = id_field()
    token_hash: str = Field(max_length=64, unique=True)
    owner_kind: str = Field(max_length=16)  # engineer | organization
    owner_id: uuid.UUID = Field(index=True)
    created_at: datetime = utc_field()
    revoked_at: datetime | None = utc_field(nullable=True)
