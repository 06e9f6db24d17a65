"""ICS for remote sessions: the invite of one booking and personal feeds (icalendar, RFC 5545)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from scheduling.models import Booking, BookingStatus

PRODID = "-//Deskline//Remote sessions//EN"
ICS_STATUS = {
    BookingStatus.PENDING_PAYMENT: "TENTATIVE",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.EXPIRED: "CANCELLED",
}


@dataclass(frozen=True, slots=True)
class InviteParty:
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class SessionInvite:
    booking: Booking
    service_name: str
    organizer: InviteParty
    attendees: list[InviteParty]
    missing_preconditions: list[str]  # labels, never values


def uid_of(booking: Booking) -> str:
    return f"booking-{booking.id}@deskline"


def _event(invite: SessionInvite, *, now: datetime) -> Event:
    booking, zone = invite.booking, ZoneInfo(invite.booking.time_zone)
    event = Event()
    event.add("uid", uid_of(booking))
    event.add("sequence", booking.ics_sequence)
    event.add("dtstamp", now)
    event.add("dtstart", booking.starts_at.astimezone(zone))
    event.add("dtend", booking.ends_at.astimezone(zone))
    event.add("summary", f"Remote session RS-{booking.number}: {invite.service_name}")
    event.add("status", ICS_STATUS.get(booking.status, "CONFIRMED"))
    lines = [f"Remote session RS-{booking.number}."]
    if invite.missing_preconditions:
        lines.append("Still needed before the session: " + "; ".join(invite.missing_preconditions) + ".")
    event.add("description", "\n".join(lines))
    organizer = vCalAddress(f"mailto:{invite.organizer.email}")
    organizer.params["cn"] = vText(invite.organizer.name)
    event["organizer"] = organizer
    for party in invite.attendees:
        attendee = vCalAddress(f"mailto:{party.email}")
        attendee.params["cn"] = vText(party.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=False)
    return event


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    return calendar


def invite_ics(invite: SessionInvite, *, now: datetime) -> bytes:
    """METHOD:REQUEST, or CANCEL once cancelled; a stable UID and a SEQUENCE that grows on reschedule."""
    cancelled = invite.booking.status in {BookingStatus.CANCELLED, BookingStatus.EXPIRED}
    calendar = _calendar("CANCEL" if cancelled else "REQUEST")
    calendar.add_component(_event(invite, now=now))
    _add_timezones(calendar, [invite.booking])
    return bytes(calendar.to_ical())


def feed_ics(invites: Iterable[SessionInvite], *, name: str, now: datetime) -> bytes:
    calendar = _calendar(None)
    calendar.add("x-wr-calname", name)
    listed = list(invites)
    for invite in listed:
        calendar.add_component(_event(invite, now=now))
    _add_timezones(calendar, [i.booking for i in listed])
    return bytes(calendar.to_ical())


def _add_timezones(calendar: Calendar, bookings: list[Booking]) -> None:
    """VTIMEZONEs covering only the years around the events: small, and simple for every client."""
    if not bookings:
        return
    first = min(b.starts_at for b in bookings).date() - timedelta(days=366)
    last = max(b.ends_at for b in bookings).date() + timedelta(days=366)
    calendar.add_missing_timezones(first_date=first, last_date=last)
