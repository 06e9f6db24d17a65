"""core: holiday calendars belong to the shared kernel (every line's business calendars use them)

Revision ID: 0012_core_holidays
Revises: 0011_reliability
Create Date: 2026-11-26 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012_core_holidays"
down_revision: str | None = "0011_reliability"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "id, calendar, day, name, source, created_at"


def _holiday_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("calendar", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("calendar", "day", name=op.f(f"uq_{name}_calendar_day")),
    )
    op.create_index(op.f(f"ix_{name}_calendar"), name, ["calendar"], unique=False)


def _move(source: str, target: str) -> None:
    _holiday_table(target)
    op.execute(f"INSERT INTO {target} ({COLUMNS}) SELECT {COLUMNS} FROM {source}")  # noqa: S608
    op.drop_index(op.f(f"ix_{source}_calendar"), table_name=source)
    op.drop_table(source)


def upgrade() -> None:
    _move("scheduling_holiday", "core_holiday")


def downgrade() -> None:
    _move("core_holiday", "scheduling_holiday")
