"""A contract's monthly report for people: CSV for accountants, a printable HTML page a customer can
save as PDF. (JSON is the report itself.)"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator
from html import escape

from contracts.reports import Breach, Report
from core.money import formatted

TIMER_NAMES = {"first_response": "First response", "update": "Update interval", "resolution": "Resolution"}


CSV_HEADER = [
    "section",
    "priority",
    "timer",
    "ticket",
    "opened",
    "met",
    "breached",
    "breach_minutes",
    "due_at",
    "ended_at",
    "value",
]
CSV_CHUNK_ROWS = 500  # rows per chunk sent: memory stays this size, however many breaches a month has


async def report_csv(report: Report, breaches: AsyncIterable[Breach]) -> AsyncIterator[str]:
    """The report as CSV in chunks: one row per priority and timer, then one per breach as they are
    read (``breaches``, in batches; ``report.breaches`` is not used), then sessions and credits."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for line in report.priorities:
        for timer, tally in line.timers.items():
            counts = [line.opened, tally.met, tally.breached, tally.breach_minutes]
            writer.writerow(["timers", line.priority, timer, "", *counts, "", "", ""])
    rows = 0
    async for breach in breaches:
        times = [breach.due_at.isoformat(), breach.ended_at.isoformat()]
        writer.writerow(
            [
                "breach",
                breach.priority,
                breach.timer,
                breach.ticket,
                "",
                "",
                1,
                breach.breach_minutes,
                *times,
                "",
            ]
        )
        rows += 1
        if rows % CSV_CHUNK_ROWS == 0:
            yield _drain(out)
    sessions = report.sessions
    used = f"{sessions.used_included_minutes}/{sessions.included_minutes} included minutes used, "
    writer.writerow(
        ["sessions", "", "", "", "", "", "", "", "", "", used + f"{sessions.overage_minutes} overage"]
    )
    writer.writerow(
        [
            "service_credits",
            "",
            "",
            "",
            "",
            "",
            report.credits.breaches,
            "",
            "",
            "",
            report.credits.amount_minor,
        ]
    )
    yield _drain(out)


def _drain(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def report_html(report: Report) -> str:
    """A self-contained printable page (no script, no external asset)."""
    rows = "".join(
        f"<tr><td>{escape(line.priority)}</td><td>{line.opened}</td><td>{line.open_now}</td>"
        + "".join(
            f"<td>{t.met}</td><td>{t.breached}</td><td>{t.breach_minutes}</td>" for t in line.timers.values()
        )
        + "</tr>"
        for line in report.priorities
    )
    breaches = (
        "".join(
            f"<tr><td>{escape(b.ticket)}</td><td>{escape(b.priority)}</td><td>{escape(TIMER_NAMES[b.timer])}</td>"
            f"<td>{b.due_at.isoformat()}</td><td>{b.ended_at.isoformat()}</td><td>{b.breach_minutes}</td></tr>"
            for b in report.breaches
        )
        or '<tr><td colspan="6">No breach this month.</td></tr>'
    )
    headers = "".join(f'<th colspan="3">{name}</th>' for name in TIMER_NAMES.values())
    s, c = report.sessions, report.credits
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>SLA report {escape(report.number)} {escape(report.period)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
th, td {{ border: 1px solid #999; padding: 0.3em 0.6em; text-align: right; }} th {{ background: #eee; }}
td:first-child {{ text-align: left; }} @media print {{ body {{ margin: 0; }} }}
</style></head><body>
<h1>SLA report: contract {escape(report.number)}, {escape(report.period)}</h1>
<p>Times in business minutes of the contract's calendar ({escape(report.time_zone)}); terms of version
{report.contract_version}.</p>
<h2>Targets by priority</h2>
<table><thead>
<tr><th rowspan="2">Priority</th><th rowspan="2">Opened</th><th rowspan="2">Open</th>{headers}</tr>
<tr>{"<th>met</th><th>breached</th><th>minutes over</th>" * 3}</tr>
</thead><tbody>{rows}</tbody></table>
<h2>Breaches</h2>
<table><thead>
<tr><th>Ticket</th><th>Priority</th><th>Timer</th><th>Due</th><th>Ended</th><th>Minutes over</th></tr>
</thead><tbody>{breaches}</tbody></table>
<h2>Remote sessions</h2>
<p>{s.count} session(s); {s.used_included_minutes} of {s.included_minutes} included minutes used;
{s.overage_minutes} overage minutes ({formatted(s.overage_amount_minor, report.currency)}).</p>
<h2>Service credits</h2>
<p>{c.breaches} breach(es) earned {c.earned_percent}% of the monthly fee; the month's cap is
{c.cap_percent}%, so {c.percent}% is credited:
<strong>{formatted(c.amount_minor, report.currency)}</strong>
of {formatted(report.monthly_fee_minor, report.currency)}.</p>
</body></html>
"""
