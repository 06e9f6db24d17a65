"""Tables of the scheduling area."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import id_field, utc_field


class Holiday(SQLModel, table=True):
    """A non-working date of a named holiday calendar (e.g. a national production calendar)."""

    __tablename__ = "scheduling_holiday"
    __table_args__ = (sa.UniqueConstraint("calendar", "day", name="uq_scheduling_holiday_calendar_day"),)

    id: uuid.UUID = id_field()
    calendar: str = Field(max_length=64, index=True)
    day: date
    name: str = Field(max_length=200)
    source: str = Field(max_length=200)
    created_at: datetime = utc_field()
