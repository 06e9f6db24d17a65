"""What a breach is, once for everything that shows or pays for one: the ticket's timers, the ended
timer's outcome row (and so the month's report and its service credit) and the ``contract.breach``
event all read an ``Overrun``.

Rule: a timer is breached when any business time passed between its due time and when it stopped (or
now, while it runs), not counting paused time. Its size is that time in business minutes rounded up,
so a reply 25 seconds late is a breach of 1 minute, and a breach is never 0 minutes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.business_time import BusinessCalendar

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Overrun:
    late_by: timedelta  # business time past the due time; zero when the target was met

    @property
    def breached(self) -> bool:
        return self.late_by > timedelta(0)

    @property
    def minutes(self) -> int:
        """Business minutes late, rounded up: at least 1 for every breach, 0 for a met target."""
        return math.ceil(self.late_by / MINUTE)


def overrun(
    calendar: BusinessCalendar,
    due: datetime,
    end: datetime,
    pauses: Iterable[tuple[datetime, datetime | None]] = (),
) -> Overrun:
    """How late a timer due at ``due`` is at ``end`` (when it stopped, or now while it runs)."""
    if end <= due:
        return Overrun(timedelta(0))
    return Overrun(calendar.elapsed_minus_pauses(due, end, pauses))
