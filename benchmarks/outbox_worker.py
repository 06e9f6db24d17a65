"""Benchmark: outbox delivery by e-mail with two `deskline worker` processes on PostgreSQL.

A producer commits ``--events`` outbox events (one e-mail each) at ``--rate`` per second while two worker
processes deliver them to a local SMTP server (aiosmtpd, in this process); reports the throughput
(deliveries per second, from the first commit to the last delivery) and the delay from each event's
commit to its delivery (p50, p99).

Run: .venv/bin/python -m benchmarks.outbox_worker --database-url postgresql+asyncpg://postgres@127.0.0.1/bench_outbox
     [--events 2000] [--rate 200] [--workers 2]   (the URL must name a scratch database)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col

from api.db import create_engine
from api.migrations import upgrade
from api.settings import load_settings
from core.outbox import OutboxEvent, emit
from notifications import Delivery, DeliveryStatus
from support.notices import EmailRejected

SMTP_PORT = 8526


class Sink:
    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        return "250 OK"


async def produce(url: str, events: int, rate: float) -> None:
    engine = create_engine(load_settings(database_url=url))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    batch = max(1, int(rate // 10))
    for start in range(0, events, batch):
        async with sessions() as session, session.begin():
            for n in range(start, min(start + batch, events)):
                # an event whose audience is in its document (the sender): one e-mail, no lookups
                rejected = EmailRejected(
                    sender=f"bench{n}@example.com", subject="Bench", reason="unknown_sender"
                )
                await emit(session, rejected, now=datetime.now(UTC))
        await asyncio.sleep(batch / rate)
    await engine.dispose()


async def wait_delivered(url: str, events: int, started: float, limit: float = 600) -> list[float]:
    engine = create_engine(load_settings(database_url=url))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    while time.monotonic() - started < limit:
        async with sessions() as session:
            done = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Delivery)
                .where(col(Delivery.status) == DeliveryStatus.DELIVERED)
            )
        if done and done >= events:
            break
        await asyncio.sleep(0.2)
    async with sessions() as session:
        rows = (
            await session.execute(
                sa.select(col(OutboxEvent.created_at), col(Delivery.delivered_at)).join(
                    OutboxEvent, col(OutboxEvent.id) == col(Delivery.event_id)
                )
            )
        ).all()
    await engine.dispose()
    return [(delivered - created).total_seconds() for created, delivered in rows if delivered is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    upgrade(load_settings(database_url=args.database_url), "head")
    controller = Controller(Sink(), hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKLINE_")}
    env.update(
        {
            "DESKLINE_DATABASE_URL": args.database_url,
            "DESKLINE_SMTP_PORT": str(SMTP_PORT),
            "DESKLINE_LOG_LEVEL": "WARNING",
            "DESKLINE_LOG_FORMAT": "json",
        }
    )
    workers = [
        subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env, stdout=subprocess.DEVNULL)
        for _ in range(args.workers)
    ]
    try:
        started = time.monotonic()
        asyncio.run(produce(args.database_url, args.events, args.rate))
        delays = asyncio.run(wait_delivered(args.database_url, args.events, started))
        elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=10)
        controller.stop()
    delays.sort()
    p99 = delays[max(0, int(len(delays) * 0.99) - 1)]
    print(
        f"{len(delays)} of {args.events} delivered by {args.workers} workers in {elapsed:.1f} s: "
        f"{len(delays) / elapsed:.0f} deliveries/s"
    )
    print(
        f"commit → delivery: p50 {statistics.median(delays) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
        f"(offered {args.rate:.0f}/s)"
    )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
