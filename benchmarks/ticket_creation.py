"""Benchmark: ticket creation throughput next to a bare Litestar endpoint doing one insert, same engine.

Both apps are served by uvicorn on loopback in one process, share one database engine, and are
driven by the same httpx client with the same concurrency, in interleaved rounds. The knowledge base
holds published articles (``--articles``), some of which match the ticket, so filing does its real
suggestion search. Target: ticket creation reaches at least 0.6 of the bare endpoint's rate, with
a webhook subscription to ticket.received and the receipt e-mail switched on (both the worker's work
after the commit).

Run: .venv/bin/python -m benchmarks.ticket_creation [--database-url URL] [--requests 400]
     [--concurrency 8] [--rounds 5] [--articles 300]   (a PostgreSQL URL should name a scratch database)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import sqlalchemy as sa
import uvicorn
from litestar import Litestar, post
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from accounts.actor import SYSTEM_ACTOR
from accounts.directory import create_organization, create_user
from accounts.eligibility import designate_support_contact
from accounts.models import PurchaseChannel
from accounts.purchases import record_purchase
from accounts.roles import Role
from accounts.schemas import OrganizationIn, PurchaseIn, UserIn
from accounts.tokens import issue_access_token
from api.app import create_app
from api.logging import configure_logging
from api.migrations import upgrade
from api.settings import load_settings
from benchmarks.figures import Figure, write_figures
from core.time import SystemClock
from notifications import subscribe
from support.kb import create_article
from support.schemas import ArticleIn

TICKET = {
    "project_name": "Warehouse terminals",
    "description": "Terminals stop synchronising after the update; the exchange directory fills up.",
    "affected_applications": "Mobile Server",
    "steps_to_reproduce": "Update, start, sync",
    "impact": "Paper picking",
    "affected_employees": 40,
    "exchange_archive_link": "https://files.example.com/a.zip",
}


def bare_app(engine: AsyncEngine) -> Litestar:
    """The baseline: parse a JSON body, one INSERT, commit, answer 201."""
    table = sa.table("core_counter", sa.column("name"), sa.column("value"))

    @post("/insert")
    async def insert(data: dict[str, object]) -> dict[str, str]:
        name = f"bench-{uuid.uuid4().hex}"
        async with engine.begin() as connection:
            await connection.execute(sa.insert(table).values(name=name, value=len(data)))
        return {"name": name}

    return Litestar([insert], logging_config=None)


async def drive(
    client: httpx.AsyncClient,
    url: str,
    body: dict[str, object],
    headers: dict[str, str],
    requests: int,
    concurrency: int,
) -> float:
    queue = iter(range(requests))

    async def worker() -> None:
        for _ in queue:
            response = await client.post(url, json=body, headers=headers)
            assert response.status_code == 201, response.text

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started)


@contextlib.asynccontextmanager
async def serve(app: Litestar, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def write_articles(app: Litestar, count: int) -> None:
    """A knowledge base of ``count`` published articles; one in ten shares words with the ticket (their
    slugs are this run's own, so the benchmark runs again on the same database)."""
    run = uuid.uuid4().hex[:6]
    topics = ["printer driver", "licence renewal", "barcode scanner", "user rights", "report layout"]
    async with (
        async_sessionmaker(app.state.ctx.alchemy.get_engine(), expire_on_commit=False)() as session,
        session.begin(),
    ):
        for i in range(count):
            topic = "terminal synchronisation and the exchange directory" if i % 10 == 0 else topics[i % 5]
            article = ArticleIn(
                slug=f"article-{run}-{i}",
                title=f"How to handle {topic} ({i})",
                body=f"Steps for {topic}: check the settings, restart the service, and retry. " * 5,
                tags=[topic.split()[0]],
                published=True,
            )
            await create_article(session, article, now=SystemClock().now())


async def prepare(app: Litestar) -> str:
    """A designated contact of an eligible organisation, and their access token."""
    clock, ctx = SystemClock(), app.state.ctx
    async with (
        async_sessionmaker(ctx.alchemy.get_engine(), expire_on_commit=False)() as session,
        session.begin(),
    ):
        org = await create_organization(
            session, SYSTEM_ACTOR, OrganizationIn(name="Bench LLC"), now=clock.now()
        )
        await record_purchase(
            session,
            SYSTEM_ACTOR,
            org.id,
            PurchaseIn(
                product="Mobile Server",
                purchased_on=date(2020, 1, 1),
                channel=PurchaseChannel.DIRECT,
                reference=f"BENCH-{org.id}",
            ),
            now=clock.now(),
        )
        user = await create_user(
            session,
            SYSTEM_ACTOR,
            org.id,
            UserIn(email=f"bench-{org.id}@example.com", full_name="Bench", role=Role.CUSTOMER_USER),
            now=clock.now(),
        )
        await designate_support_contact(session, SYSTEM_ACTOR, org.id, user.id, now=clock.now())
        # What a real deployment has switched on: the receipt e-mail goes to the contact (above) and an
        # integration subscribes to ticket.received. Both are the worker's work after the commit; the
        # request writes the ticket and one event row.
        await subscribe(
            session,
            uuid.uuid4(),
            "https://hooks.example.com/deskline",
            ["ticket.received"],
            ctx.keyring,
            now=clock.now(),
        )
        token = await issue_access_token(
            session, ctx.keyring, ctx.token_policy, subject=str(user.id), subject_kind="user", now=clock.now()
        )
    return token.token


async def main(
    database_url: str, requests: int, concurrency: int, rounds: int, articles: int, json_path: str | None
) -> None:
    settings = load_settings(database_url=database_url, log_level="WARNING", log_format="json")
    configure_logging(settings)
    app = create_app(settings, configure_logs=False)
    ticket_url, bare_url = "http://127.0.0.1:18401/v1/support/tickets", "http://127.0.0.1:18402/insert"
    limits = httpx.Limits(max_connections=concurrency)
    async with (
        serve(app, 18_401),
        serve(bare_app(app.state.ctx.alchemy.get_engine()), 18_402),
        httpx.AsyncClient(limits=limits, timeout=60) as client,
    ):
        await write_articles(app, articles)
        headers = {"Authorization": f"Bearer {await prepare(app)}"}
        await drive(client, bare_url, {"n": 1}, {}, 50, concurrency)  # warm-up
        await drive(client, ticket_url, TICKET, headers, 50, concurrency)
        baseline, tickets = [], []
        for _ in range(rounds):  # interleaved, so drift hits both equally
            baseline.append(await drive(client, bare_url, {"n": 1}, {}, requests, concurrency))
            tickets.append(await drive(client, ticket_url, TICKET, headers, requests, concurrency))
    best_bare, best_tickets = statistics.median(baseline), statistics.median(tickets)
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
        f"database {database_url.split(':')[0]}; uvicorn on loopback, httpx client in the same process"
    )
    print(
        f"{rounds} rounds x {requests} requests, concurrency {concurrency} (median of rounds); "
        f"{articles} published articles"
    )
    print(f"bare insert endpoint:     {best_bare:8.1f} req/s   rounds: {[round(x) for x in baseline]}")
    print(f"POST /v1/support/tickets: {best_tickets:8.1f} req/s   rounds: {[round(x) for x in tickets]}")
    print(f"ratio: {best_tickets / best_bare:.2f} (target >= 0.60)")
    database = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    write_figures(
        json_path,
        [
            Figure(
                f"filing / bare insert ({database})",
                best_tickets / best_bare,
                "ratio",
                "higher",
                0.6,
                cpu_bound=False,
            ),
            Figure(f"filing rate ({database})", best_tickets, "1/s", "higher"),
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    directory = Path(tempfile.mkdtemp(prefix="deskline-bench-"))
    parser.add_argument("--database-url", default=f"sqlite+aiosqlite:///{directory / 'bench.db'}")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--json", default=None, help="write the figures to this file (make bench)")
    arguments = parser.parse_args()
    upgrade(load_settings(database_url=arguments.database_url))
    asyncio.run(
        main(
            arguments.database_url,
            arguments.requests,
            arguments.concurrency,
            arguments.rounds,
            arguments.articles,
            arguments.json,
        )
    )
