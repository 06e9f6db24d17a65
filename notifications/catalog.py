"""The catalog of events: one entry per event type, saying everything about it in one place: its typed
document (raised by its line's ``notices`` module), who receives it, when, its mail template, whether
integrations may subscribe to it, and the owning line's check that it still holds when it comes due.

The README's event table, the OpenAPI document's ``webhooks`` section, the mail and the fan-out are all
read from here: a new event is one entry here and one template."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from billing import InvoiceIssued
from contracts import ContractActivated, ContractBreach, ContractReportReady
from core.outbox import Event, OutboxEvent
from notifications import audiences, templates
from notifications.audiences import Audience
from notifications.templates import Speech
from scheduling import (
    BookingCancelled,
    BookingConfirmed,
    BookingHeld,
    BookingRefunded,
    BookingReminder,
    BookingRescheduled,
    reminder_still_due,
)
from support import (
    EmailRejected,
    ExplanationRequested,
    FirstResponseBreached,
    FirstResponseDueSoon,
    TicketAnswered,
    TicketClockStarted,
    TicketReceived,
    TicketWaitingForCustomer,
    warning_still_due,
)

Template = Callable[[Any, Speech], tuple[str, str]]  # Any: the entry's own event type
StillDue = Callable[[AsyncSession, OutboxEvent], Awaitable[str | None]]


@dataclass(frozen=True)
class Entry:
    event: type[Event]
    audience: Audience
    to: str  # who receives it, in the README's words
    when: str  # when it is sent, in the README's words
    template: Template
    webhook: bool = True  # integrations may subscribe to it
    still_due: StillDue | None = None  # the owning line's check, made when a delivery comes due
    invite: bool = False  # the mail carries the session's invite (.ics)

    @property
    def type(self) -> str:
        return self.event.type


ENTRIES = (
    Entry(
        TicketReceived,
        audiences.ticket_author,
        "the ticket's author",
        "every ticket, free or SLA, by the API or by e-mail: its number, what is still missing, the "
        "first-response due time",
        templates.received,
    ),
    Entry(
        TicketClockStarted,
        audiences.ticket_author,
        "the ticket's author",
        "the intake becomes complete after the filing (an upload, an edit, support accepting it): the "
        "first-response clock starts; with the due time",
        templates.clock_started,
    ),
    Entry(
        TicketAnswered,
        audiences.ticket_author,
        "the ticket's author",
        "each public staff reply (internal notes never)",
        templates.answered,
    ),
    Entry(
        TicketWaitingForCustomer,
        audiences.ticket_author,
        "the ticket's author",
        "support asks for information",
        templates.waiting,
    ),
    Entry(
        ExplanationRequested,
        audiences.support_leads,
        "every support lead",
        "the contact asks why the first response was late",
        templates.explanation,
    ),
    Entry(
        FirstResponseDueSoon,
        audiences.support_leads,
        "every support lead",
        "an hour before the first response falls due (`deliver_after`); dropped if the ticket was answered "
        "or its due time moved",
        templates.due_soon,
        still_due=warning_still_due,
    ),
    Entry(
        FirstResponseBreached,
        audiences.support_leads,
        "every support lead",
        "when the first response falls due unanswered (`deliver_after`); dropped if the ticket was "
        "answered or its due time moved",
        templates.breached,
        still_due=warning_still_due,
    ),
    Entry(
        BookingHeld,
        audiences.booker,
        "whoever booked",
        "a paid session's slot is held and its payment can be made: the price and until when the hold "
        "lasts (not sent for a hold released because Stripe could not start the payment)",
        templates.held,
    ),
    Entry(
        BookingConfirmed,
        audiences.booker,
        "whoever booked",
        "paid, covered by a contract, or proposed by support; the invite (`.ics`) attached",
        templates.confirmed,
        invite=True,
    ),
    Entry(
        BookingReminder,
        audiences.booker,
        "whoever booked",
        "24 h and 1 h before the session (`deliver_after`); dropped as `skipped` if the session was "
        "cancelled or moved since",
        templates.reminder,
        still_due=reminder_still_due,
    ),
    Entry(
        BookingRescheduled,
        audiences.booker,
        "whoever booked",
        "the new time (and new reminders)",
        templates.rescheduled,
    ),
    Entry(
        BookingCancelled,
        audiences.booker,
        "whoever booked",
        "with the refund the policy gave",
        templates.cancelled,
    ),
    Entry(
        BookingRefunded,
        audiences.booker,
        "whoever booked",
        "Stripe made a refund (by the cancellation policy, a payment that came too late, or staff): "
        "amount and reason",
        templates.refunded,
    ),
    Entry(
        ContractActivated,
        audiences.organisation_people,
        "the customer's admins (else its users)",
        "an SLA contract takes effect",
        templates.activated,
    ),
    Entry(
        ContractBreach,
        audiences.organisation_people,
        "the customer's admins (else its users)",
        "an SLA timer (first response, update, resolution) ended late: by how many business minutes; "
        "threads into the ticket",
        templates.contract_breach,
    ),
    Entry(
        ContractReportReady,
        audiences.organisation_people,
        "the customer's admins (else its users)",
        "the month is invoiced, so its service report is final: breaches, credit, the report's path",
        templates.report_ready,
    ),
    Entry(
        InvoiceIssued,
        audiences.organisation_people,
        "the customer's admins (else its users)",
        "an invoice was issued in Stripe",
        templates.invoice,
    ),
    Entry(
        EmailRejected,
        audiences.sender,
        "the sender",
        "an e-mail from an address no active user has: why, and what to do",
        templates.rejected,
        webhook=False,
    ),
)
CATALOG: dict[str, Entry] = {entry.type: entry for entry in ENTRIES}
WEBHOOK_EVENT_TYPES = tuple(entry.type for entry in ENTRIES if entry.webhook)


def readme_table() -> str:
    """The README's table of events, from the catalog (a test holds the README to it)."""
    rows = ["| event | to | when |", "|---|---|---|"]
    rows += [f"| `{e.type}` | {e.to} | {e.when} |" for e in ENTRIES]
    return "\n".join(rows) + "\n"
