"""Tables of SLA contracts: the agreement, and its versions (the draft's terms, then each amendment)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import enum_check, enum_field, id_field, utc_field, uuid_fk


class ContractState(StrEnum):
    """What was decided; the public status (expired, terminated) is derived from dates at read time."""

    DRAFT = "draft"
    ACTIVE = "active"


class Contract(SQLModel, table=True):
    """One SLA agreement with one customer organisation. No two active contracts of an organisation
    cover the same day: PostgreSQL enforces it with an exclusion constraint (migration 0013); on
    SQLite the serialised write transaction and the check in ``contracts.agreements`` do."""

    __tablename__ = "contracts_contract"
    __table_args__ = (
        enum_check("state", ContractState),
        sa.CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = uuid_fk("accounts_organization.id")
    number: str = Field(max_length=64, unique=True)
    state: ContractState = enum_field(ContractState, index=True)
    signed_on: date | None = Field(default=None)
    starts_on: date
    ends_on: date  # the last day covered by the agreement as signed
    # The first day no longer covered: ends_on + 1, or the termination's effective date if earlier.
    ends_before: date
    terminated_on: date | None = Field(default=None)
    termination_reason: str | None = Field(default=None, sa_type=sa.Text)
    revision: int = Field(default=1)
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    activated_at: datetime | None = utc_field(nullable=True)


class ContractVersion(SQLModel, table=True):
    """The terms in force from ``effective_from``: version 1 is the signed text (edited while a draft),
    each amendment adds the next. A ticket is measured against the version in force when it opened."""

    __tablename__ = "contracts_contract_version"
    __table_args__ = (sa.UniqueConstraint("contract_id", "version", name="uq_contracts_contract_version"),)

    id: uuid.UUID = id_field()
    contract_id: uuid.UUID = uuid_fk("contracts_contract.id", ondelete="CASCADE")
    version: int
    effective_from: date
    reason: str = Field(default="", sa_type=sa.Text)
    terms: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # Any: contracts.schemas.Terms
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = utc_field()


class SlaTicket(SQLModel, table=True):
    """What makes a ticket of the ``sla`` line an SLA ticket: the contract and the version it is
    measured by (the one in force when it opened), its priority, and since when the priority's
    targets count (its opening, or the last priority change)."""

    __tablename__ = "contracts_sla_ticket"
    __table_args__ = (sa.CheckConstraint("priority IN ('P1', 'P2', 'P3', 'P4')", name="priority_allowed"),)

    ticket_id: uuid.UUID = Field(foreign_key="support_ticket.id", primary_key=True, ondelete="CASCADE")
    contract_id: uuid.UUID = uuid_fk("contracts_contract.id")
    contract_version: int
    priority: str = Field(max_length=2)
    timers_from: datetime = utc_field()


class ContractSession(SQLModel, table=True):
    """A remote session booked under a contract: how many of its minutes the month's included minutes
    covered, and how many were overage (charged through billing like a paid session)."""

    __tablename__ = "contracts_contract_session"

    booking_id: uuid.UUID = Field(foreign_key="scheduling_booking.id", primary_key=True, ondelete="CASCADE")
    contract_id: uuid.UUID = uuid_fk("contracts_contract.id")
    included_minutes: int
    overage_minutes: int


class SlaOutcome(SQLModel, table=True):
    """One SLA timer that ended: met, or breached by ``breach_minutes`` business minutes. Written when
    the timer stops (the first public reply, a reply to waiting customer messages, the resolution), with
    the priority and targets in force then, so a month's report is an aggregate over these rows. A
    resolution outcome is removed when the ticket reopens (its timer runs on)."""

    __tablename__ = "contracts_sla_outcome"
    __table_args__ = (
        sa.CheckConstraint("timer IN ('first_response', 'update', 'resolution')", name="timer_allowed"),
        sa.Index("ix_contracts_sla_outcome_contract_month", "contract_id", "month"),
    )

    id: uuid.UUID = id_field()
    ticket_id: uuid.UUID = uuid_fk("support_ticket.id", ondelete="CASCADE")
    contract_id: uuid.UUID = uuid_fk("contracts_contract.id", index=False)
    priority: str = Field(max_length=2)
    timer: str = Field(max_length=16)
    due_at: datetime = utc_field()
    ended_at: datetime = utc_field()
    breach_minutes: int
    month: str = Field(max_length=7)  # YYYY-MM of ended_at in the contract calendar's zone


class ContractDocument(SQLModel, table=True):
    """A file that is part of the agreement (the signed regulation, a responsibilities matrix, …)."""

    __tablename__ = "contracts_contract_document"

    id: uuid.UUID = id_field()
    contract_id: uuid.UUID = uuid_fk("contracts_contract.id", ondelete="CASCADE")
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    size_bytes: int = Field(sa_type=sa.BigInteger)
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=255, unique=True)
    uploaded_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = utc_field()
