"""What goes into and out of the contract API. A draft's terms may be incomplete; activation and
amendments need them complete (``contracts.terms.problems_of``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import msgspec

from core.business_time import WEEKLY_HOURS
from core.money import MinorUnits, PositiveMinorUnits
from core.text import LongText, Name
from core.views import View
from support import AttachmentOut, QueueTimerOut

Hhmm = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
Minutes = Annotated[int, msgspec.Meta(gt=0, le=60 * 24 * 365)]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
ContractNumber = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9./_-]{0,63}$")]
Markdown = Annotated[str, msgspec.Meta(min_length=1, max_length=200_000, pattern=r"\S")]


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class ContractStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class Coverage(Input):
    """Who may file SLA tickets: every user of the organisation, the named users, or any user while
    no more than ``max_users`` distinct users have filed (seats are taken on first use)."""

    kind: Literal["all", "named", "seats"]
    user_ids: list[uuid.UUID] = msgspec.field(default_factory=list)
    max_users: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None


class ServiceCalendar(Input):
    """When the contract's clocks run: e.g. 24×7 (every weekday "00:00"–"24:00") or weekdays 9–18 in
    the customer's zone, minus the days of a holiday calendar."""

    time_zone: Name
    weekly_hours: Annotated[dict[str, list[tuple[Hhmm, Hhmm]]], msgspec.Meta(description=WEEKLY_HOURS)]
    holiday_calendar: Name = "default"


class PriorityTarget(Input):
    """What qualifies for a priority and its targets, in business minutes of the service calendar."""

    qualifies: LongText
    first_response_minutes: Minutes
    update_interval_minutes: Minutes
    resolution_minutes: Minutes


class Overage(Input):
    """Sessions beyond the month's included hours: charged at an hourly rate, or refused."""

    mode: Literal["charge", "refuse"]
    rate_minor_per_hour: PositiveMinorUnits | None = None


class PercentPerBreach(Input, omit_defaults=True):
    """The percentage of the monthly fee one breach of each priority costs (a priority left out: 0)."""

    P1: Percent = 0.0
    P2: Percent = 0.0
    P3: Percent = 0.0
    P4: Percent = 0.0

    def of(self, priority: str) -> float:
        return float(getattr(self, Priority(priority).value))


class ServiceCredits(Input):
    """Per breach, a percentage of the monthly fee by priority; the month's credits are capped."""

    percent_per_breach: PercentPerBreach
    cap_percent: Percent


class Terms(Input):
    coverage: Coverage | None = None
    calendar: ServiceCalendar | None = None
    priorities: dict[Priority, PriorityTarget] | None = None
    included_session_minutes: Annotated[int, msgspec.Meta(ge=0, le=60 * 24 * 31)] | None = None
    overage: Overage | None = None
    monthly_fee_minor: MinorUnits | None = None
    currency: Currency | None = None
    service_credits: ServiceCredits | None = None
    responsibilities: Markdown | None = None
    regulation: Markdown | None = None


class ContractIn(Input):
    organization_id: uuid.UUID
    number: ContractNumber
    starts_on: date
    ends_on: date
    signed_on: date | None = None
    terms: Terms = msgspec.field(default_factory=Terms)


class ContractPatch(Input):
    """A draft's changes: fields left out stay as they are; ``terms`` fields replace theirs whole."""

    number: ContractNumber | msgspec.UnsetType = msgspec.UNSET
    starts_on: date | msgspec.UnsetType = msgspec.UNSET
    ends_on: date | msgspec.UnsetType = msgspec.UNSET
    signed_on: date | msgspec.UnsetType | None = msgspec.UNSET
    terms: Terms | msgspec.UnsetType = msgspec.UNSET


class AmendmentIn(Input):
    """New terms from ``effective_from`` (not before today in the contract's zone): the ``terms`` fields
    given replace the ones in force; the others carry over."""

    effective_from: date
    reason: LongText
    terms: Terms


class TerminationIn(Input):
    """``effective_on`` is the first day no longer covered (today or later, within the contract)."""

    effective_on: date
    reason: LongText


class DocumentOut(View):
    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime


class VersionOut(View):
    version: int
    effective_from: date
    reason: str
    terms: dict[str, Any]  # Any: the Terms document as stored
    created_at: datetime


class ContractOut(View):
    id: uuid.UUID
    organization_id: uuid.UUID
    number: str
    status: ContractStatus
    in_force: bool
    signed_on: date | None
    starts_on: date
    ends_on: date
    terminated_on: date | None
    termination_reason: str | None
    revision: int
    terms: dict[str, Any]  # Any: the terms in force today (a draft's, or the signed ones before it starts)
    version_in_force: int
    versions: list[VersionOut]
    documents: list[DocumentOut]
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None


class SlaTicketIn(Input):
    priority: Priority
    subject: Name
    description: LongText
    affected_applications: LongText | None = None
    impact: LongText | None = None


class PriorityChangeIn(Input):
    priority: Priority
    reason: LongText


class TimerOut(View):
    """One SLA timer. ``due_at`` is null while the timer is paused (the ticket awaits the customer) or
    does not run (no customer message awaits an answer); ``breached`` says the target was (or is) missed
    and ``breach_minutes`` by how many business minutes."""

    target_minutes: int
    started_at: datetime | None
    due_at: datetime | None
    stopped_at: datetime | None
    breached: bool
    breach_minutes: int


class SlaClockOut(View):
    priority: Priority
    contract_version: int
    running: bool
    paused_minutes: int
    first_response: TimerOut
    update: TimerOut
    resolution: TimerOut


class SlaMessageOut(View):
    id: uuid.UUID
    author_id: uuid.UUID | None
    author_kind: str
    body: str
    internal: bool
    created_at: datetime


class SlaEventOut(View):
    occurred_at: datetime
    kind: str
    actor_id: uuid.UUID | None
    data: dict[str, Any]  # Any: the event's JSON details


class SlaTicketOut(View):
    id: uuid.UUID
    number: str
    contract_id: uuid.UUID
    organization_id: uuid.UUID
    filed_by: uuid.UUID
    status: str
    subject: str
    description: str
    author_name: str
    author_email: str
    clock: SlaClockOut
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    revision: int
    assignee_id: uuid.UUID | None = None  # who of support staff works it (PUT /v1/queue/{id}/assignee)
    messages: list[SlaMessageOut] = msgspec.field(default_factory=list)
    attachments: list[AttachmentOut] = msgspec.field(default_factory=list)
    timeline: list[SlaEventOut] = msgspec.field(default_factory=list)


class QueueItemOut(View):
    """An open ticket of either line in the staff queue. ``next_due_at`` is when its earliest running
    timer falls due (null while it awaits the customer or nothing runs); ``breached`` says a timer is
    (or was) late and ``breach_minutes`` by how much at most; ``missing`` lists the intake items a free
    ticket still lacks (its clock starts when there are none)."""

    id: uuid.UUID
    line: str  # basic | sla
    number: str
    subject: str
    status: str
    organization_id: uuid.UUID
    organization_name: str
    assignee_id: uuid.UUID | None
    assignee_name: str | None
    contract_id: uuid.UUID | None
    priority: str | None
    missing: list[str]
    paused: bool
    next_due_at: datetime | None
    next_due_timer: str | None
    breached: bool
    breach_minutes: int
    timers: list[QueueTimerOut]
    created_at: datetime
    updated_at: datetime
    revision: int


class AssigneeIn(Input):
    """Who works the ticket: a member of support staff, or null to give it back to the queue."""

    assignee_id: uuid.UUID | None
