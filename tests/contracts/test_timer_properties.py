"""Properties of the SLA timers, over any pauses and any moments: pausing never brings a deadline
closer, and a timer stopped by its due time is never a breach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.sla import _timer
from core.business_time import BusinessCalendar, from_weekly_hours

CALENDARS = [
    from_weekly_hours("Europe/Moscow", {str(d): [["09:00", "18:00"]] for d in range(5)}),
    from_weekly_hours("Europe/Berlin", {str(d): [["00:00", "24:00"]] for d in range(7)}),
]
START = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # a week with Berlin's change to summer time
minutes = st.integers(min_value=0, max_value=14 * 24 * 60)
pause = st.tuples(minutes, st.integers(min_value=1, max_value=3 * 24 * 60))


def _pauses(spans: list[tuple[int, int]]) -> list[tuple[datetime, datetime | None]]:
    return [(START + timedelta(minutes=a), START + timedelta(minutes=a + length)) for a, length in spans]


@settings(max_examples=150, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    target=st.integers(min_value=1, max_value=5000),
    spans=st.lists(pause, max_size=4),
)
def test_pausing_never_brings_a_deadline_closer(
    calendar: BusinessCalendar, target: int, spans: list[tuple[int, int]]
) -> None:
    now = START + timedelta(days=60)
    free = _timer(calendar, target=timedelta(minutes=target), started=START, stopped=None, pauses=[], now=now)
    paused = _timer(
        calendar,
        target=timedelta(minutes=target),
        started=START,
        stopped=None,
        pauses=_pauses(spans),
        now=now,
    )
    assert free.due_at is not None
    assert paused.due_at is not None
    assert paused.due_at >= free.due_at


@settings(max_examples=150, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    target=st.integers(min_value=1, max_value=5000),
    spans=st.lists(pause, max_size=4),
    stop=minutes,
)
def test_a_timer_stopped_by_its_due_time_is_no_breach(
    calendar: BusinessCalendar, target: int, spans: list[tuple[int, int]], stop: int
) -> None:
    stopped = START + timedelta(minutes=stop)
    timer = _timer(
        calendar,
        target=timedelta(minutes=target),
        started=START,
        stopped=stopped,
        pauses=_pauses(spans),
        now=stopped + timedelta(days=30),
    )
    assert timer.due_at is not None
    if stopped <= timer.due_at:
        assert (timer.breached, timer.breach_minutes) == (False, 0)
    else:
        assert timer.breached == (timer.breach_minutes > 0)
