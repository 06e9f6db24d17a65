"""Read models of scheduling: a booking as the API shows it, its status derived at read time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from scheduling.lifecycle import effective_status
from scheduling.models import Booking
from scheduling.schemas import BookingOut, PaymentStartOut


def booking_out(b: Booking, now: datetime, payment: PaymentStartOut | None = None) -> BookingOut:
    """Times in the booking's own zone; a lapsed hold reads as expired."""
    zone = ZoneInfo(b.time_zone)
    return BookingOut.of(
        b,
        number=f"RS-{b.number}",
        status=effective_status(b, now),
        starts_at=b.starts_at.astimezone(zone),
        ends_at=b.ends_at.astimezone(zone),
        payment=payment or msgspec.UNSET,
    )
