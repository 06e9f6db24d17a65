"""Benchmark: business-time add() and elapsed() over a year with holidays (target: add < 1 ms/call).

Run: .venv/bin/python -m benchmarks.business_time
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from benchmarks.figures import Figure, write_figures
from core.business_time import BusinessCalendar, weekly

RUSSIAN_2026 = [date(2026, 1, d) for d in range(1, 9)] + [
    date(2026, 2, 23),
    date(2026, 3, 9),
    date(2026, 5, 1),
    date(2026, 5, 11),
    date(2026, 6, 12),
    date(2026, 11, 4),
    date(2026, 12, 31),
]


def calendar(zone: str) -> BusinessCalendar:
    return weekly(zone, {d: [("09:00", "13:00"), ("14:00", "18:00")] for d in range(5)}, RUSSIAN_2026)


def per_call_us(fn: object, calls: int) -> list[float]:
    timings = []
    for i in range(calls):
        started = time.perf_counter()
        fn(i)  # type: ignore[operator]
        timings.append((time.perf_counter() - started) * 1e6)
    return timings


def report(label: str, timings: list[float]) -> float:
    ordered = sorted(timings)
    p95 = ordered[int(len(ordered) * 0.95)]
    print(f"{label:<58} median {statistics.median(ordered):8.1f} us   p95 {p95:8.1f} us   n={len(ordered)}")
    return statistics.median(ordered)


def bench_zone(zone: str, start: datetime, scale: float) -> list[Figure]:
    cal = calendar(zone)
    year = cal.elapsed(start, start + timedelta(days=365))
    add_year = report(
        f"add(one year of business time) warm, {zone}",
        per_call_us(lambda i: cal.add(start + timedelta(minutes=7 * i), year), int(2000 * scale)),
    )
    report(
        f"elapsed(one calendar year) warm, {zone}",
        per_call_us(
            lambda i: cal.elapsed(start + timedelta(minutes=7 * i), start + timedelta(days=365)),
            int(2000 * scale),
        ),
    )
    report(
        f"add(one year) cold (new calendar each call), {zone}",
        per_call_us(lambda i: calendar(zone).add(start + timedelta(minutes=7 * i), year), int(300 * scale)),
    )
    report(
        f"add(8 business hours) warm, {zone}",
        per_call_us(
            lambda i: cal.add(start + timedelta(minutes=7 * i), timedelta(hours=8)), int(5000 * scale)
        ),
    )

    return [Figure(f"business time add(one year), {zone}", add_year, "us", "lower", 300)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="a share of the calls (make test: 0.02)")
    parser.add_argument("--json", default=None, help="write the figures to this file (make bench)")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.processor() or 'cpu'})")
    start = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)
    figures = []
    for zone in ("Europe/Moscow", "Europe/Berlin"):
        figures += bench_zone(zone, start, args.scale)
    write_figures(args.json, figures)


if __name__ == "__main__":
    main()
