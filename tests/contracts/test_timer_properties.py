"""Properties of the SLA timers, over any pauses and any moments: pausing never brings a deadline
closer, and a timer stopped by its due time is never a breach."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.breaches import overrun
from contracts.reports import PriorityLine, Tally, service_credits
from contracts.schemas import PercentPerBreach, Priority, ServiceCredits
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


overrun_seconds = st.integers(min_value=1, max_value=5 * 24 * 3600)


@settings(max_examples=200, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    target=st.integers(min_value=1, max_value=3000),
    late=overrun_seconds,
    priority=st.sampled_from([p.value for p in Priority]),
)
def test_the_ticket_the_outcome_the_report_and_the_credit_agree_on_a_breach(
    calendar: BusinessCalendar, target: int, late: int, priority: str
) -> None:
    """Overruns of seconds to days: the timer shown on the ticket, the outcome row (what the report and
    the event read) and the month's credit give one answer to "was it breached, by how much"."""
    due = calendar.add(START, timedelta(minutes=target))
    stopped = due + timedelta(seconds=late)
    shown = _timer(
        calendar, target=timedelta(minutes=target), started=START, stopped=stopped, pauses=[], now=stopped
    )
    recorded = overrun(calendar, due, stopped)  # what contracts.sla records as the outcome
    assert shown.due_at == due
    assert shown.breached == recorded.breached == (recorded.minutes > 0)
    assert shown.breach_minutes == recorded.minutes
    assert recorded.minutes == math.ceil(calendar.elapsed(due, stopped) / timedelta(minutes=1))
    line = PriorityLine(priority)
    line.timers["first_response"] = Tally(
        met=0 if recorded.minutes else 1, breached=int(recorded.minutes > 0)
    )
    rule = ServiceCredits(percent_per_breach=PercentPerBreach(**{priority: 5.0}), cap_percent=20)
    credits = service_credits(
        [line], rule, monthly_fee_minor=1_000_000, breaches=line.timers["first_response"].breached
    )
    assert (credits.amount_minor > 0) == shown.breached
