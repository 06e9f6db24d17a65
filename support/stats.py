"""Public statistics of basic support, per month of intake completion, computed in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy.ext.asyncio import AsyncSession

# Nearest-rank percentiles with window functions: the same SQL runs on PostgreSQL and SQLite.
STATS_SQL = sa.text(
    """
    WITH measured AS (
        SELECT intake_month AS month,
               first_response_business_minutes AS minutes,
               CASE WHEN first_responded_at IS NOT NULL AND first_responded_at <= first_response_due_at
                    THEN 1 ELSE 0 END AS in_time,
               CASE WHEN first_responded_at IS NULL AND first_response_due_at > :now
                    THEN 1 ELSE 0 END AS pending,
               CASE WHEN was_paused_for_information OR intake_completed_at > created_at
                    THEN 1 ELSE 0 END AS paused
        FROM support_ticket
        WHERE line = 'basic' AND intake_month IS NOT NULL AND intake_month >= :first AND intake_month <= :last
    ),
    ranked AS (
        SELECT month, minutes,
               ROW_NUMBER() OVER (PARTITION BY month ORDER BY minutes) AS position,
               COUNT(minutes) OVER (PARTITION BY month) AS answered
        FROM measured WHERE minutes IS NOT NULL
    ),
    percentiles AS (
        SELECT month,
               MIN(CASE WHEN position >= 0.5 * answered THEN minutes END) AS median,
               MIN(CASE WHEN position >= 0.9 * answered THEN minutes END) AS p90
        FROM ranked GROUP BY month
    )
    SELECT m.month, COUNT(*) AS tickets, SUM(m.in_time) AS in_time, SUM(m.pending) AS pending,
           SUM(m.paused) AS paused,
           MAX(p.median) AS median, MAX(p.p90) AS p90
    FROM measured m LEFT JOIN percentiles p ON p.month = m.month
    GROUP BY m.month ORDER BY m.month
    """
).bindparams(sa.bindparam("now", type_=DateTimeUTC(timezone=True)))


@dataclass(frozen=True, slots=True)
class MonthStats:
    """Tickets whose clock started in the month. A ticket is decided once it was answered or its
    deadline passed unanswered; one still inside its deadline is pending and counts for nothing yet."""

    month: str
    tickets: int
    answered_within_regulation: int
    pending: int
    median_first_response_minutes: int | None
    p90_first_response_minutes: int | None
    paused_for_missing_information: int

    @property
    def decided(self) -> int:
        return self.tickets - self.pending

    @property
    def within_share(self) -> float | None:
        return round(self.answered_within_regulation / self.decided, 4) if self.decided else None

    @property
    def paused_share(self) -> float | None:
        return round(self.paused_for_missing_information / self.tickets, 4) if self.tickets else None


async def monthly_stats(
    session: AsyncSession, *, first_month: str, last_month: str, now: datetime
) -> list[MonthStats]:
    """Tickets whose clock started in [first_month, last_month] (YYYY-MM, regulation's zone)."""
    rows = await session.execute(STATS_SQL, {"first": first_month, "last": last_month, "now": now})
    return [
        MonthStats(
            month=row.month,
            tickets=int(row.tickets),
            answered_within_regulation=int(row.in_time or 0),
            pending=int(row.pending or 0),
            median_first_response_minutes=None if row.median is None else int(row.median),
            p90_first_response_minutes=None if row.p90 is None else int(row.p90),
            paused_for_missing_information=int(row.paused or 0),
        )
        for row in rows
    ]
