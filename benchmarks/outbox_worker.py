"""Benchmark: outbox delivery by two `deskline worker` processes, by e-mail and by webhook.

Three runs on one scratch database, each counting only its own events:
- e-mail, saturated: ``--events`` events (one e-mail each, to a local SMTP sink) committed at once;
  deliveries per second from the first commit to the last delivery (target >= 500/s);
- webhooks, saturated: as many events delivered to one active subscription on a local receiver
  (target >= 300/s);
- paced: events committed at ``--rate`` per second (100), e-mail; the delay from each event's commit to
  its delivery, p50 and p99 (target p99 < 1 s). On PostgreSQL a worker is woken by LISTEN/NOTIFY.

Run: .venv/bin/python -m benchmarks.outbox_worker --database-url postgresql+asyncpg://postgres@127.0.0.1/scratch
     [--events 3000] [--rate 100] [--paced-seconds 10] [--workers 2] [--json FILE]
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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from litestar import Litestar, Request, post
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col

from api.context import build_keyring
from api.db import create_engine
from api.migrations import upgrade
from api.settings import load_settings
from benchmarks.figures import Figure, write_figures
from core.outbox import Event, OutboxEvent, emit
from devserver import free_port
from notifications import Delivery, subscribe
from support import EmailRejected, TicketReceived


class Sink:
    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        return "250 OK"


@post("/hook", status_code=204)
async def receive(request: Request[Any, Any, Any]) -> None:
    await request.body()


def mail_event(n: int) -> tuple[Event, uuid.UUID | None]:
    """An event whose audience is in its document (the sender): one e-mail, no lookups."""
    return EmailRejected(sender=f"bench{n}@example.com", subject="Bench", reason="unknown_sender"), None


def webhook_event(n: int) -> tuple[Event, uuid.UUID | None]:
    """A ticket.received of no stored ticket: no e-mail, one delivery to the subscription."""
    ticket = uuid.uuid4()
    received = TicketReceived(
        ticket_id=str(ticket),
        number=f"DL-{n}",
        line="basic",
        subject="Bench",
        status="awaiting_customer",
        channel="web",
        missing=[],
        first_response_due_at=None,
    )
    return received, ticket


async def produce(url: str, events: int, rate: float | None, make: object) -> list[uuid.UUID]:
    """Commit ``events`` events, all at once (``rate`` None) or ``rate`` per second in batches of a
    tenth of a second; the ids of what was committed."""
    engine = create_engine(load_settings(database_url=url))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    batch = events if rate is None else max(1, int(rate // 10))
    ids: list[uuid.UUID] = []
    for start in range(0, events, batch):
        async with sessions() as session, session.begin():
            for n in range(start, min(start + batch, events)):
                event, subject = make(n)  # type: ignore[operator]
                ids.append((await emit(session, event, now=datetime.now(UTC), subject_id=subject)).id)
        if rate is not None:
            await asyncio.sleep(batch / rate)
    await engine.dispose()
    return ids


async def delivered(
    url: str, expected: int, since: datetime, started: float, limit: float = 600
) -> list[float]:
    """Wait until the ``expected`` deliveries of this run's events (the ones created since ``since``, one
    delivery each) are delivered; each one's delay from commit. While waiting it only counts: fetching
    every row every 50 ms kept this process, whose other thread is the SMTP sink, busy enough to slow
    the sink it measures through."""
    engine = create_engine(load_settings(database_url=url))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    this_run = (
        sa.select()  # the columns: each query's own
        .select_from(Delivery)
        .join(OutboxEvent, col(OutboxEvent.id) == col(Delivery.event_id))
        .where(col(OutboxEvent.created_at) >= since, col(Delivery.delivered_at).is_not(None))
    )
    counted = this_run.with_only_columns(sa.func.count())
    times = this_run.with_only_columns(col(OutboxEvent.created_at), col(Delivery.delivered_at))
    try:
        while time.monotonic() - started < limit:
            async with sessions() as session:
                if (await session.scalar(counted) or 0) >= expected:
                    rows = (await session.execute(times)).all()
                    return [(done - created).total_seconds() for created, done in rows if done is not None]
            await asyncio.sleep(0.05)
        raise TimeoutError(f"not all of {expected} events were delivered in {limit} s")
    finally:
        await engine.dispose()


async def subscribe_receiver(url: str, target: str) -> None:
    settings = load_settings(database_url=url)
    engine = create_engine(settings)
    async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
        await subscribe(
            session, uuid.uuid4(), target, ["ticket.received"], build_keyring(settings), now=datetime.now(UTC)
        )
    await engine.dispose()


@contextmanager
def workers(url: str, count: int, smtp_port: int) -> Iterator[None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKLINE_")}
    env.update(
        {
            "DESKLINE_DATABASE_URL": url,
            "DESKLINE_SMTP_PORT": str(smtp_port),
            "DESKLINE_LOG_LEVEL": "WARNING",
            "DESKLINE_LOG_FORMAT": "json",
            "DESKLINE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        }
    )
    processes = [
        subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env, stdout=subprocess.DEVNULL)
        for _ in range(count)
    ]
    try:
        time.sleep(1.5)  # started and listening, so the runs measure delivery, not start-up
        yield
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


async def one_run(url: str, events: int, rate: float | None, make: object) -> tuple[float, list[float]]:
    started, since = time.monotonic(), datetime.now(UTC)
    ids = await produce(url, events, rate, make)
    delays = sorted(await delivered(url, len(ids), since, started))
    return len(delays) / (time.monotonic() - started), delays


async def receiver(port: int) -> uvicorn.Server:
    server = uvicorn.Server(
        uvicorn.Config(
            Litestar([receive], logging_config=None),
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
        )
    )
    asyncio.get_running_loop().create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=None, help="write the figures to this file (make bench)")
    args = parser.parse_args()
    upgrade(load_settings(database_url=args.database_url), "head")
    smtp_port, hook_port = free_port(), free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    database = "postgresql" if args.database_url.startswith("postgresql") else "sqlite"
    workers_used = args.workers if database == "postgresql" else 1  # SQLite runs one worker

    async def run_all() -> dict[str, object]:
        hook = await receiver(hook_port)
        await subscribe_receiver(args.database_url, f"http://127.0.0.1:{hook_port}/hook")
        try:
            mail_rate, _ = await one_run(args.database_url, args.events, None, mail_event)
            hook_rate, _ = await one_run(args.database_url, args.events, None, webhook_event)
            paced = int(args.rate * args.paced_seconds)
            _, delays = await one_run(args.database_url, paced, args.rate, mail_event)
        finally:
            hook.should_exit = True
            await asyncio.sleep(0.2)
        return {"mail": mail_rate, "hook": hook_rate, "delays": delays}

    try:
        with workers(args.database_url, workers_used, smtp_port):
            found = asyncio.run(run_all())
    finally:
        controller.stop()
    delays = found["delays"]
    assert isinstance(delays, list)
    p50, p99 = statistics.median(delays), delays[max(0, int(len(delays) * 0.99) - 1)]
    print(f"{workers_used} workers, {database}; machine: {platform.machine()}, {os.cpu_count()} cores")
    print(f"e-mail, {args.events} events at once:   {found['mail']:.0f} deliveries/s (target >= 500)")
    print(f"webhooks, {args.events} events at once: {found['hook']:.0f} deliveries/s (target >= 300)")
    print(
        f"paced at {args.rate:.0f}/s: commit → delivery p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
        "(target p99 < 1000)"
    )
    write_figures(
        args.json,
        [
            Figure(f"outbox e-mail/s ({database})", float(found["mail"]), "1/s", "higher", 500),  # type: ignore[arg-type]
            Figure(f"outbox webhooks/s ({database})", float(found["hook"]), "1/s", "higher", 300),  # type: ignore[arg-type]
            Figure(
                f"outbox commit→delivery p99 ({database})", p99 * 1000, "ms", "lower", 1000, compared=False
            ),
        ],
    )


if __name__ == "__main__":
    main()
