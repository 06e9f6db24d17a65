"""Request and response bodies of basic support (v1)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from core.business_time import WEEKLY_HOURS
from core.holidays import Holiday
from core.text import LongText, Name
from core.views import View
from support.models import AttachmentKind, RegulationVersion, TicketStatus
from support.regulation import INTAKE_ITEMS

Text = LongText
ShortText = Name
Url = Annotated[str, msgspec.Meta(pattern=r"^(https?|ftp|smb|file)://\S+$", max_length=2000)]
Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=120)]
Hhmm = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class RegulationIn(Input):
    time_zone: ShortText
    weekly_hours: Annotated[dict[str, list[tuple[Hhmm, Hhmm]]], msgspec.Meta(description=WEEKLY_HOURS)]
    first_response_minutes: Annotated[int, msgspec.Meta(gt=0, le=60 * 24 * 30)]
    update_interval_minutes: Annotated[int, msgspec.Meta(gt=0, le=60 * 24 * 30)]
    required_items: list[str]
    attachment_retention_days: Annotated[int, msgspec.Meta(gt=0, le=3650)] = 180
    holiday_calendar: ShortText = "default"
    text: str = ""


class RegulationOut(View):
    version: int
    published_at: datetime
    time_zone: str
    weekly_hours: Annotated[dict[str, list[list[str]]], msgspec.Meta(description=WEEKLY_HOURS)]
    holiday_calendar: str
    first_response_minutes: int
    update_interval_minutes: int
    required_items: list[str]
    required_item_descriptions: dict[str, str]
    attachment_retention_days: int
    text: str

    @classmethod
    def from_model(cls, regulation: RegulationVersion) -> RegulationOut:
        """The version with what each required item is, in words."""
        described = {k: INTAKE_ITEMS[k] for k in regulation.required_items if k in INTAKE_ITEMS}
        return cls.of(regulation, required_item_descriptions=described)


class TicketIn(Input):
    project_name: ShortText
    description: Text
    affected_applications: Text
    steps_to_reproduce: Text
    impact: Text
    affected_employees: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
    author_name: ShortText | None = None
    author_email: ShortText | None = None
    author_phone: ShortText | None = None
    exchange_archive_link: Url | None = None


class TicketPatch(Input):
    """What the designated contact may still change: contact details and the missing intake items."""

    author_name: ShortText | msgspec.UnsetType = msgspec.UNSET
    author_email: ShortText | msgspec.UnsetType = msgspec.UNSET
    author_phone: ShortText | msgspec.UnsetType | None = msgspec.UNSET
    exchange_archive_link: Url | msgspec.UnsetType = msgspec.UNSET
    affected_applications: Text | msgspec.UnsetType = msgspec.UNSET
    steps_to_reproduce: Text | msgspec.UnsetType = msgspec.UNSET
    impact: Text | msgspec.UnsetType = msgspec.UNSET
    affected_employees: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] | msgspec.UnsetType = msgspec.UNSET
    unavailable_items: dict[str, Text] | msgspec.UnsetType = msgspec.UNSET


class ArticleRef(View):
    slug: str
    title: str


class ClockOut(View):
    running: bool
    first_response_due_at: datetime | None
    first_responded_at: datetime | None
    first_response_business_minutes: int | None
    paused_minutes: int
    breached: bool
    next_update_due_at: datetime | None
    update_overdue: bool


class MessageOut(View):
    id: uuid.UUID
    author_id: uuid.UUID | None
    author_kind: str
    body: str
    internal: bool
    created_at: datetime


class AttachmentOut(View):
    id: uuid.UUID
    kind: AttachmentKind
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime


class ExplanationOut(View):
    id: uuid.UUID
    ticket_id: uuid.UUID
    requested_by: uuid.UUID
    reason: str
    created_at: datetime


class EventOut(View):
    occurred_at: datetime
    kind: str
    actor_id: uuid.UUID | None
    data: dict[str, object]


class TicketOut(View):
    id: uuid.UUID
    number: str
    organization_id: uuid.UUID
    filed_by: uuid.UUID
    status: TicketStatus
    waiting_reason: str | None
    channel: str
    regulation_version: int
    project_name: str
    author_name: str
    author_email: str
    author_phone: str | None
    description: str
    affected_applications: str
    steps_to_reproduce: str
    impact: str
    affected_employees: int | None
    exchange_archive_link: str | None
    missing: list[str]
    unavailable_items: dict[str, str]
    clock: ClockOut
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    revision: int
    assignee_id: uuid.UUID | None = None  # who of support staff works it (PUT /v1/queue/{id}/assignee)
    suggested_articles: list[ArticleRef] = msgspec.field(default_factory=list)
    cited_articles: list[ArticleRef] = msgspec.field(default_factory=list)
    messages: list[MessageOut] = msgspec.field(default_factory=list)
    attachments: list[AttachmentOut] = msgspec.field(default_factory=list)
    explanation_requests: list[ExplanationOut] = msgspec.field(default_factory=list)
    timeline: list[EventOut] = msgspec.field(default_factory=list)


class QueueTimerOut(View):
    """One timer of a ticket as the staff queue shows it: first_response, update (the next one owed) or
    resolution. ``due_at`` is null while the ticket awaits the customer (``paused``) or the timer has
    not started; ``breach_minutes`` says by how many business minutes it is (or was) late."""

    name: str
    due_at: datetime | None
    stopped_at: datetime | None
    paused: bool
    breached: bool
    breach_minutes: int


class TicketSummaryOut(View):
    id: uuid.UUID
    number: str
    organization_id: uuid.UUID
    status: TicketStatus
    project_name: str
    missing: list[str]
    clock: ClockOut
    created_at: datetime


class PhoneTicketIn(Input):
    """A ticket support staff enter after the designated contact's call."""

    organization_id: uuid.UUID
    ticket: TicketIn


class MessageIn(Input):
    body: Text
    internal: bool = False
    cited_articles: list[Slug] = msgspec.field(default_factory=list)


class TransitionIn(Input):
    to: TicketStatus
    message: Text | None = None
    reason: Text | None = None


class SessionProposalIn(Input):
    """A free remote session support proposes when the customer cannot provide an intake item."""

    service_id: uuid.UUID
    starts_at: datetime
    time_zone: ShortText = "Europe/Moscow"
    message: Text | None = None


class ExplanationIn(Input):
    reason: Text


class ArticleIn(Input):
    slug: Slug
    title: ShortText
    body: Text
    tags: list[Annotated[str, msgspec.Meta(min_length=1, max_length=50)]] = msgspec.field(
        default_factory=list
    )
    published: bool = False


class ArticlePatch(Input):
    title: ShortText | msgspec.UnsetType = msgspec.UNSET
    body: Text | msgspec.UnsetType = msgspec.UNSET
    tags: list[Annotated[str, msgspec.Meta(min_length=1, max_length=50)]] | msgspec.UnsetType = msgspec.UNSET
    published: bool | msgspec.UnsetType = msgspec.UNSET


class ArticleOut(View):
    id: uuid.UUID
    slug: str
    title: str
    body: str
    tags: list[str]
    published: bool
    created_at: datetime
    updated_at: datetime


class MonthStatsOut(View):
    """One month of basic support, by the month a ticket's clock started (the regulation's zone)."""

    month: Annotated[str, msgspec.Meta(description="YYYY-MM")]
    tickets: Annotated[int, msgspec.Meta(description="Tickets whose intake became complete this month")]
    decided: Annotated[
        int, msgspec.Meta(description="Of those, answered, or past their first-response deadline unanswered")
    ]
    pending: Annotated[
        int, msgspec.Meta(description="Of those, not answered yet and still inside their deadline")
    ]
    answered_within_regulation: Annotated[
        int, msgspec.Meta(description="Decided tickets whose first response came by the deadline")
    ]
    answered_within_regulation_share: Annotated[
        float | None,
        msgspec.Meta(description="answered_within_regulation / decided; null while nothing is decided"),
    ]
    median_first_response_minutes: Annotated[
        int | None, msgspec.Meta(description="Median business minutes to the first response, answered only")
    ]
    p90_first_response_minutes: Annotated[
        int | None, msgspec.Meta(description="90th percentile of the same (nearest rank)")
    ]
    paused_for_missing_information_share: Annotated[
        float | None,
        msgspec.Meta(
            description="Share of the month's tickets that waited for information from the customer"
        ),
    ]


class StatsOut(View):
    months: list[MonthStatsOut]


class HolidayOut(View):
    calendar: str
    day: str
    name: str
    source: str

    @classmethod
    def from_model(cls, holiday: Holiday) -> HolidayOut:
        return cls.of(holiday, day=holiday.day.isoformat())
