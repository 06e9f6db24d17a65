"""Invites and personal calendar feeds: who sees which sessions, behind revocable unguessable tokens."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, Organization, Role, User
from core.crypto import digest_token
from core.errors import Conflict, NotFound, PermissionDenied
from scheduling.ics import InviteParty, SessionInvite
from scheduling.models import (
    ACTIVE_BOOKING_STATES,
    Booking,
    BookingStatus,
    CalendarFeed,
    Engineer,
    Precondition,
    Service,
)

FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=366)


async def session_invite(session: AsyncSession, booking: Booking, organizer: InviteParty) -> SessionInvite:
    return (await session_invites(session, [booking], organizer))[0]


async def session_invites(
    session: AsyncSession, bookings: Sequence[Booking], organizer: InviteParty
) -> list[SessionInvite]:
    """Invites for these sessions (services, people and provided preconditions in one query each,
    however long a feed is); they name the preconditions still missing, never their values."""
    if not bookings:
        return []
    services = {
        s.id: s
        for s in (
            await session.scalars(
                sa.select(Service).where(col(Service.id).in_({b.service_id for b in bookings}))
            )
        ).all()
    }
    people_ids = {b.engineer_id for b in bookings} | {b.booked_by for b in bookings}
    people = {
        u.id: u for u in (await session.scalars(sa.select(User).where(col(User.id).in_(people_ids)))).all()
    }
    provided: dict[uuid.UUID, set[str]] = {}
    rows = await session.execute(
        sa.select(col(Precondition.booking_id), col(Precondition.key)).where(
            col(Precondition.booking_id).in_([b.id for b in bookings])
        )
    )
    for booking_id, key in rows.all():
        provided.setdefault(booking_id, set()).add(key)
    invites = []
    for booking in bookings:
        service = services[booking.service_id]
        done = provided.get(booking.id, set())
        missing = [
            item["label_en"] for item in service.checklist if item.get("required") and item["key"] not in done
        ]
        attendees = [
            InviteParty(email=people[i].email, name=people[i].full_name)
            for i in (booking.engineer_id, booking.booked_by)
            if i in people
        ]
        invites.append(
            SessionInvite(
                booking=booking,
                service_name=service.name,
                organizer=organizer,
                attendees=attendees,
                missing_preconditions=missing,
            )
        )
    return invites


async def create_feed(session: AsyncSession, actor: Actor, *, now: datetime) -> tuple[CalendarFeed, str]:
    """An engineer's feed of their sessions, or a customer's feed of their organisation's sessions."""
    if actor.is_customer and actor.organization_id is not None:
        kind, owner = "organization", actor.organization_id
    elif actor.has_role(Role.SUPPORT_ENGINEER, Role.SUPPORT_LEAD):
        if await session.get(Engineer, actor.id) is None:
            raise Conflict("Set your working hours first: a feed shows the sessions booked on them.")
        kind, owner = "engineer", actor.id
    else:
        raise PermissionDenied("Calendar feeds are for engineers and for customer users.")
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(token_hash=digest_token(token), owner_kind=kind, owner_id=owner, created_at=now)
    session.add(feed)
    await session.flush()
    return feed, token


async def revoke_feed(
    session: AsyncSession, actor: Actor, feed_id: uuid.UUID, *, now: datetime
) -> CalendarFeed:
    feed = await session.get(CalendarFeed, feed_id)
    mine = feed is not None and feed.owner_id in {actor.id, actor.organization_id}
    if feed is None or not (mine or actor.has_role(Role.ADMIN)):
        raise NotFound("No calendar feed with this id.")
    feed.revoked_at = feed.revoked_at or now
    await session.flush()
    return feed


async def feed_bookings(session: AsyncSession, token: str, *, now: datetime) -> tuple[str, list[Booking]]:
    """The feed's name and its sessions from a month ago to a year ahead; unknown or revoked → NotFound."""
    feed = (
        await session.scalars(
            sa.select(CalendarFeed).where(col(CalendarFeed.token_hash) == digest_token(token))
        )
    ).first()
    if feed is None or feed.revoked_at is not None:
        raise NotFound("No calendar feed at this address.")
    owner_column = col(Booking.engineer_id) if feed.owner_kind == "engineer" else col(Booking.organization_id)
    shown = (*ACTIVE_BOOKING_STATES, BookingStatus.COMPLETED, BookingStatus.CANCELLED)
    rows = await session.scalars(
        sa.select(Booking)
        .where(
            owner_column == feed.owner_id,
            col(Booking.status).in_(shown),
            col(Booking.starts_at) >= now - FEED_PAST,
            col(Booking.starts_at) < now + FEED_FUTURE,
        )
        .order_by(col(Booking.starts_at))
    )
    bookings = [
        b
        for b in rows.all()
        if b.status != BookingStatus.PENDING_PAYMENT
        or (b.hold_expires_at is not None and b.hold_expires_at > now)
    ]
    if feed.owner_kind == "engineer":
        user = await session.get(User, feed.owner_id)
        name = f"Deskline sessions — {user.full_name if user else 'engineer'}"
    else:
        org = await session.get(Organization, feed.owner_id)
        name = f"Deskline sessions — {org.name if org else 'organization'}"
    return name, bookings
