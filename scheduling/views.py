"""Read models of scheduling: a booking as the API shows it, its status derived at read time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from scheduling.lifecycle import effective_status
from scheduling.models import Booking
from scheduling.schemas import BookingOut, PaymentStartOut


def booking_out(b: Booking, now: datetime, payment: PaymentStartOut | None = None) -> BookingOut:
    """Times in the booking's own zone; a lapsed hold reads as expired."""
    zone = ZoneInfo(b.time_zone)
    out = BookingOut(
        id=b.id,
        number=f"RS-{b.number}",
        service_id=b.service_id,
        organization_id=b.organization_id,
        engineer_id=b.engineer_id,
        status=effective_status(b, now),
        funding=b.funding,
        starts_at=b.starts_at.astimezone(zone),
        ends_at=b.ends_at.astimezone(zone),
        time_zone=b.time_zone,
        hold_expires_at=b.hold_expires_at,
        price_minor=b.price_minor,
        currency=b.currency,
        ics_sequence=b.ics_sequence,
        cancellation_refund=b.cancellation_refund,
        created_at=b.created_at,
    )
    if payment is not None:
        out.payment = payment
    return out
