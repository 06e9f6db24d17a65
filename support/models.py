"""Tables of basic support: the regulation, tickets and their clock, messages, attachments, KB."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import support.stemming  # noqa: F401  (SQLite's knowledge-base index triggers call its function)
from core.db import StrEnumType, enum_check, enum_field, id_field, utc_field, uuid_fk


class TicketStatus(StrEnum):
    AWAITING_CUSTOMER = "awaiting_customer"
    NEW = "new"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class WaitingReason(StrEnum):
    INTAKE = "intake"  # the intake is incomplete: the clock has not started
    INFO_REQUESTED = "info_requested"  # support asked for something: the clock is paused


class AttachmentKind(StrEnum):
    DEVICE_DATABASE = "device_database"
    OTHER = "other"


class RegulationVersion(SQLModel, table=True):
    """One published version of the support regulation; tickets keep the version they started under."""

    __tablename__ = "support_regulation_version"

    id: uuid.UUID = id_field()
    version: int = Field(unique=True)
    published_at: datetime = utc_field()
    published_by: uuid.UUID | None = Field(default=None)
    time_zone: str = Field(max_length=64)
    weekly_hours: dict[str, Any] = Field(sa_type=sa.JSON)  # {"0": [["09:00", "18:00"]], ...}
    holiday_calendar: str = Field(max_length=64)
    first_response_minutes: int
    update_interval_minutes: int
    required_items: list[str] = Field(sa_type=sa.JSON)
    attachment_retention_days: int
    text: str = Field(default="", sa_type=sa.Text)


BASIC = "basic"  # the line of free tickets; contracts adds "sla" (support/lines.py)


class Ticket(SQLModel, table=True):
    """A ticket of one service line. Lines share the lifecycle and the clock; each numbers its own."""

    __tablename__ = "support_ticket"
    __table_args__ = (
        enum_check("status", TicketStatus),
        sa.UniqueConstraint("line", "number", name="uq_support_ticket_line_number"),
    )

    id: uuid.UUID = id_field()
    line: str = Field(default=BASIC, max_length=16, index=True)
    number: int
    organization_id: uuid.UUID = uuid_fk("accounts_organization.id")
    filed_by: uuid.UUID = uuid_fk("accounts_user.id")
    # The regulation a free ticket is measured by (SLA tickets are measured by their contract).
    regulation_id: uuid.UUID | None = uuid_fk("support_regulation_version.id", index=False, nullable=True)
    status: TicketStatus = enum_field(TicketStatus, index=True)
    # The support staff member working the ticket (taken from the queue); None while nobody is.
    assignee_id: uuid.UUID | None = uuid_fk("accounts_user.id", nullable=True)
    waiting_reason: WaitingReason | None = Field(default=None, sa_type=StrEnumType(WaitingReason))
    channel: str = Field(default="api", max_length=16)

    project_name: str = Field(max_length=200)
    author_name: str = Field(max_length=200)
    author_email: str = Field(max_length=254)
    author_phone: str | None = Field(default=None, max_length=40)
    description: str = Field(sa_type=sa.Text)
    affected_applications: str = Field(default="", sa_type=sa.Text)
    steps_to_reproduce: str = Field(default="", sa_type=sa.Text)
    impact: str = Field(default="", sa_type=sa.Text)
    affected_employees: int | None = Field(default=None)
    exchange_archive_link: str | None = Field(default=None, max_length=2000)
    unavailable_items: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # item -> reason

    created_at: datetime = utc_field()
    updated_at: datetime = utc_field(index=True)  # the staff queue's change marker reads its maximum
    intake_completed_at: datetime | None = utc_field(nullable=True)
    intake_month: str | None = Field(
        default=None, max_length=7, index=True
    )  # YYYY-MM in the regulation's zone
    first_response_due_at: datetime | None = utc_field(nullable=True)
    first_responded_at: datetime | None = utc_field(nullable=True)
    first_response_business_minutes: int | None = Field(default=None)
    # Since when support owes the customer its next update: the last public staff reply, the end of a
    # pause for information, or reopening; the regulation's update interval counts from here.
    updates_counted_from: datetime | None = utc_field(nullable=True)
    was_paused_for_information: bool = Field(default=False)
    resolved_at: datetime | None = utc_field(nullable=True)
    closed_at: datetime | None = utc_field(nullable=True)
    revision: int = Field(default=1)


class TicketPause(SQLModel, table=True):
    """An interval during which the ticket's clock does not run (information requested)."""

    __tablename__ = "support_ticket_pause"

    id: uuid.UUID = id_field()
    ticket_id: uuid.UUID = uuid_fk("support_ticket.id", ondelete="CASCADE")
    started_at: datetime = utc_field()
    ended_at: datetime | None = utc_field(nullable=True)


class TicketMessage(SQLModel, table=True):
    __tablename__ = "support_ticket_message"

    id: uuid.UUID = id_field()
    ticket_id: uuid.UUID = uuid_fk("support_ticket.id", ondelete="CASCADE")
    author_id: uuid.UUID | None = Field(default=None)
    author_kind: str = Field(max_length=16)  # customer | staff | email
    body: str = Field(sa_type=sa.Text)
    internal: bool = Field(default=False)
    created_at: datetime = utc_field()


class TicketEvent(SQLModel, table=True):
    """The ticket's timeline: every status change and notable act, in order."""

    __tablename__ = "support_ticket_event"

    id: uuid.UUID = id_field()
    ticket_id: uuid.UUID = uuid_fk("support_ticket.id", ondelete="CASCADE")
    occurred_at: datetime = utc_field()
    actor_id: uuid.UUID | None = Field(default=None)
    kind: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class Attachment(SQLModel, table=True):
    __tablename__ = "support_attachment"
    __table_args__ = (enum_check("kind", AttachmentKind),)

    id: uuid.UUID = id_field()
    ticket_id: uuid.UUID = uuid_fk("support_ticket.id", ondelete="CASCADE")
    kind: AttachmentKind = enum_field(AttachmentKind)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    size_bytes: int = Field(sa_type=sa.BigInteger)
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=255, unique=True)
    uploaded_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = utc_field()


class ExplanationRequest(SQLModel, table=True):
    """The designated contact asks why the first-response deadline passed unanswered."""

    __tablename__ = "support_explanation_request"

    id: uuid.UUID = id_field()
    ticket_id: uuid.UUID = uuid_fk("support_ticket.id", ondelete="CASCADE")
    requested_by: uuid.UUID
    reason: str = Field(sa_type=sa.Text)
    created_at: datetime = utc_field()


class KbArticle(SQLModel, table=True):
    __tablename__ = "support_kb_article"

    id: uuid.UUID = id_field()
    slug: str = Field(max_length=120, unique=True)
    title: str = Field(max_length=300)
    body: str = Field(sa_type=sa.Text)
    tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    published: bool = Field(default=False)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class TicketArticle(SQLModel, table=True):
    """Articles suggested for a ticket at creation, and articles a staff reply cited."""

    __tablename__ = "support_ticket_article"

    ticket_id: uuid.UUID = Field(foreign_key="support_ticket.id", primary_key=True, ondelete="CASCADE")
    article_id: uuid.UUID = Field(foreign_key="support_kb_article.id", primary_key=True, ondelete="CASCADE")
    relation: str = Field(primary_key=True, max_length=16)  # suggested | cited
    created_at: datetime = utc_field()
