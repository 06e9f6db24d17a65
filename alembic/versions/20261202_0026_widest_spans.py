"""High-water marks that bound availability's scans: the widest span a booking blocks and the longest
busy interval imported, in minutes (core_counter rows, kept by the code from now on).

Reading a window's bookings and busy time then scans only rows that begin at most that long before the
window, instead of every row that began before its end (the whole history). Existing rows set the
initial marks; a database with neither keeps none (nothing to bound).

Revision ID: 0026_widest_spans
Revises: 0025_outbox_notify
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0026_widest_spans"
down_revision: str | None = "0025_outbox_notify"
branch_labels = None
depends_on = None

MARKS = ("scheduling.widest_booking_minutes", "scheduling.widest_busy_minutes")
counter = sa.table("core_counter", sa.column("name", sa.String), sa.column("value", sa.Integer))


def _longest(table: str, start: str, end: str) -> int | None:
    rows = sa.table(table, sa.column(start, sa.DateTime(timezone=True)), sa.column(end, sa.DateTime(timezone=True)))
    longest: timedelta | None = None
    for a, b in op.get_bind().execute(sa.select(rows.c[start], rows.c[end])):
        if longest is None or b - a > longest:
            longest = b - a
    return None if longest is None else -(-longest // timedelta(minutes=1))


def upgrade() -> None:
    bind = op.get_bind()
    services = sa.table(
        "scheduling_service",
        sa.column("duration_minutes", sa.Integer),
        sa.column("buffer_before_minutes", sa.Integer),
        sa.column("buffer_after_minutes", sa.Integer),
    )
    widest_service = bind.execute(
        sa.select(
            sa.func.max(
                services.c.duration_minutes + services.c.buffer_before_minutes + services.c.buffer_after_minutes
            )
        )
    ).scalar()
    bookings = _longest("scheduling_booking", "blocked_from", "blocked_until")
    marks = {
        MARKS[0]: max((m for m in (widest_service, bookings) if m is not None), default=None),
        MARKS[1]: _longest("scheduling_busy_interval", "starts_at", "ends_at"),
    }
    rows = [{"name": name, "value": int(value)} for name, value in marks.items() if value is not None]
    if rows:
        op.bulk_insert(counter, rows)


def downgrade() -> None:
    op.execute(counter.delete().where(counter.c.name.in_(MARKS)))
