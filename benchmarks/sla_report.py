"""Benchmark: the monthly SLA report of a contract with 100,000 tickets in one month.

Fills a scratch database with one active contract, ``--tickets`` SLA tickets opened in one month and
their three ended timers each (``--breach-share`` of them breached), then times the report as the API
builds it (the SQL aggregates, the breach list, the session minutes, the credits) and its JSON
encoding, median of ``--rounds`` (target: under 400 ms on PostgreSQL), and measures the peak memory
of streaming it as CSV (target: under 2 MB, whatever the month's size).

Run: .venv/bin/python -m benchmarks.sla_report --database-url postgresql+asyncpg://postgres@127.0.0.1/bench_report
     [--tickets 100000] [--breach-share 0.05] [--rounds 7]   (the URL must name a scratch database)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker

from accounts.actor import SYSTEM_ACTOR
from accounts.directory import create_organization, create_user
from accounts.roles import Role
from accounts.schemas import OrganizationIn, UserIn
from api.db import create_engine
from api.migrations import upgrade
from api.settings import load_settings
from benchmarks.figures import Figure, write_figures
from contracts.agreements import activate_contract, create_draft
from contracts.models import SlaOutcome, SlaTicket
from contracts.report_formats import report_csv
from contracts.reports import breaches_of, monthly_report
from contracts.schemas import ContractIn, Terms
from core.db import table_of
from core.ids import new_id
from support.models import Ticket, TicketStatus

PERIOD = "2026-10"
CSV_PEAK: list[float] = []
MONTH_START = datetime(2026, 9, 30, 21, 0, tzinfo=UTC)  # 1 October 00:00 in Moscow
TERMS = {
    "coverage": {"kind": "all"},
    "calendar": {
        "time_zone": "Europe/Moscow",
        "weekly_hours": {str(d): [["00:00", "24:00"]] for d in range(7)},
    },
    "priorities": {
        p: {
            "qualifies": p,
            "first_response_minutes": m,
            "update_interval_minutes": 2 * m,
            "resolution_minutes": 8 * m,
        }
        for p, m in (("P1", 30), ("P2", 60), ("P3", 240), ("P4", 480))
    },
    "included_session_minutes": 240,
    "overage": {"mode": "refuse"},
    "monthly_fee_minor": 15_000_000,
    "currency": "RUB",
    "service_credits": {"percent_per_breach": {"P1": 5, "P2": 3, "P3": 1, "P4": 0}, "cap_percent": 20},
    "responsibilities": "Both parties do their part.",
}


async def fill(url: str, tickets: int, breach_share: float) -> uuid.UUID:
    engine = create_engine(load_settings(database_url=url))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    now = MONTH_START - timedelta(days=40)
    async with sessions() as session, session.begin():
        org = await create_organization(
            session, SYSTEM_ACTOR, OrganizationIn(name=f"Bench {uuid.uuid4().hex[:8]}"), now=now
        )
        user = await create_user(
            session,
            SYSTEM_ACTOR,
            org.id,
            UserIn(
                email=f"bench-{uuid.uuid4().hex[:10]}@example.com", full_name="Bench", role=Role.CUSTOMER_USER
            ),
            now=now,
        )
        data = ContractIn(
            organization_id=org.id,
            number=f"SLA-BENCH-{uuid.uuid4().hex[:8]}",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            signed_on=date(2025, 12, 1),
            terms=msgspec.convert(TERMS, Terms),
        )
        contract = await create_draft(session, SYSTEM_ACTOR, data, now=now)
        await activate_contract(session, SYSTEM_ACTOR, contract.id, now=now, expected_revision=None)
    rng = random.Random(7)
    first_number = rng.randrange(10**6, 10**8)
    for chunk in range(0, tickets, 5000):
        ticket_rows, sla_rows, outcome_rows = [], [], []
        for i in range(chunk, min(chunk + 5000, tickets)):
            opened = MONTH_START + timedelta(seconds=rng.randrange(0, 29 * 86400))
            priority = rng.choice(["P1", "P2", "P3", "P4"])
            ticket_id = new_id()
            ticket_rows.append(
                {
                    "id": ticket_id,
                    "line": "sla",
                    "number": first_number + i,
                    "organization_id": org.id,
                    "filed_by": user.id,
                    "regulation_id": None,
                    "status": TicketStatus.RESOLVED,
                    "channel": "api",
                    "project_name": "Bench",
                    "author_name": "Bench",
                    "author_email": "b@example.com",
                    "description": "Bench",
                    "affected_applications": "",
                    "steps_to_reproduce": "",
                    "impact": "",
                    "unavailable_items": {},
                    "created_at": opened,
                    "updated_at": opened,
                    "intake_completed_at": opened,
                    "was_paused_for_information": False,
                    "revision": 1,
                    "first_response_due_at": opened + timedelta(minutes=30),
                    "resolved_at": opened + timedelta(hours=2),
                }
            )
            sla_rows.append(
                {
                    "ticket_id": ticket_id,
                    "contract_id": contract.id,
                    "contract_version": 1,
                    "priority": priority,
                    "timers_from": opened,
                }
            )
            for n, timer in enumerate(("first_response", "update", "resolution")):
                breach = rng.randrange(1, 240) if rng.random() < breach_share else 0
                ended = opened + timedelta(minutes=30 * (n + 1) + breach)
                outcome_rows.append(
                    {
                        "id": new_id(),
                        "ticket_id": ticket_id,
                        "contract_id": contract.id,
                        "priority": priority,
                        "timer": timer,
                        "due_at": ended - timedelta(minutes=breach),
                        "ended_at": ended,
                        "breach_minutes": breach,
                        "month": PERIOD,
                    }
                )
        async with sessions() as session, session.begin():
            await session.execute(sa.insert(table_of(Ticket)), ticket_rows)
            await session.execute(sa.insert(table_of(SlaTicket)), sla_rows)
            await session.execute(sa.insert(table_of(SlaOutcome)), outcome_rows)
    async with engine.begin() as connection:  # committed: an ANALYZE rolled back is forgotten
        if connection.dialect.name == "postgresql":
            await connection.execute(sa.text("ANALYZE"))
    await engine.dispose()
    return contract.id


async def measure(url: str, contract_id: uuid.UUID, rounds: int) -> list[float]:
    engine = create_engine(load_settings(database_url=url))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    timings = []
    now = MONTH_START + timedelta(days=35)
    for _ in range(rounds):
        async with sessions() as session:
            started = time.perf_counter()
            report = await monthly_report(session, SYSTEM_ACTOR, contract_id, PERIOD, now=now)
            encoded = msgspec.json.encode(report)
            timings.append(time.perf_counter() - started)
    # The CSV as the API streams it: the summary, then the breaches in batches. Its peak memory (Python
    # allocations, tracemalloc) must not grow with the month.
    async with sessions() as session:
        summary = await monthly_report(
            session, SYSTEM_ACTOR, contract_id, PERIOD, now=now, with_breaches=False
        )
        tracemalloc.start()
        size = 0
        async for chunk in report_csv(summary, breaches_of(session, contract_id, PERIOD)):
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    await engine.dispose()
    print(f"report: {len(report.breaches)} breaches listed, {len(encoded) / 1e6:.1f} MB of JSON")
    print(f"CSV streamed: {size / 1e6:.1f} MB sent, peak memory {peak / 1e6:.2f} MB")
    CSV_PEAK.append(peak / 1e6)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--breach-share", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", default=None, help="write the figures to this file (make bench)")
    args = parser.parse_args()
    started = time.perf_counter()
    upgrade(load_settings(database_url=args.database_url), "head")
    contract_id = asyncio.run(fill(args.database_url, args.tickets, args.breach_share))
    print(
        f"filled {args.tickets} tickets and {3 * args.tickets} ended timers "
        f"in {time.perf_counter() - started:.1f} s"
    )
    timings = asyncio.run(measure(args.database_url, contract_id, args.rounds))
    print(
        f"monthly report ({args.tickets} tickets, {args.rounds} rounds): "
        f"median {statistics.median(timings) * 1000:.0f} ms, "
        f"best {min(timings) * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms"
    )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    database = "postgresql" if args.database_url.startswith("postgresql") else "sqlite"
    write_figures(
        args.json,
        [
            Figure(f"SLA report ({database})", statistics.median(timings) * 1000, "ms", "lower", 400),
            Figure(f"SLA report CSV peak memory ({database})", CSV_PEAK[-1], "MB", "lower", 2, False),
        ],
    )


if __name__ == "__main__":
    main()
