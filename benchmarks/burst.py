"""Benchmark: Monday 9:00. 200 concurrent holds for one slot through two API processes (five pooled
connections each) while Stripe takes 2 s to answer every call, with readiness probes and availability
reads timed meanwhile by a separate process.

Run: .venv/bin/python -m benchmarks.burst --database-url postgresql+asyncpg://postgres@127.0.0.1/scratch
     [--racers 200] [--stripe-latency 2] [--rounds 3]
     (the database is migrated, emptied and filled; name a scratch one)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics

import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from api.app import create_app
from api.metadata import metadata
from api.migrations import upgrade
from api.settings import load_settings
from benchmarks.figures import Figure, write_figures
from core.time import FrozenClock
from tests import bursts
from tests.harness import delaying_proxy, localstripe, servers
from tests.world import World


async def empty(database_url: str) -> None:
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for table in reversed(metadata.sorted_tables):
            await connection.execute(sa.text(f'DELETE FROM "{table.name}"'))  # noqa: S608 - our names
    await engine.dispose()


async def one_round(database_url: str, stripe_upstream: str, latency: float) -> dict[str, object]:
    await empty(database_url)
    settings = load_settings(database_url=database_url, log_level="WARNING", log_format="json")
    app: Litestar = create_app(settings, clock=FrozenClock(), configure_logs=False)
    engine = create_async_engine(database_url)
    world = World(
        app=app,
        client=None,  # type: ignore[arg-type]  # the race is prepared through the domain, not HTTP
        clock=FrozenClock(),
        sessions=async_sessionmaker(engine, expire_on_commit=False),
    )
    try:
        race = await bursts.prepare_race(world)
    finally:
        await engine.dispose()
    async with delaying_proxy(stripe_upstream, latency) as stripe:
        with servers(bursts.burst_env(database_url, stripe.url), 2) as processes:
            outcome = await bursts.run_burst(processes, race)
    return bursts.summary(outcome)


async def main(database_url: str, racers: int, latency: float, rounds: int, json_path: str | None) -> None:
    bursts.RACERS = racers
    with localstripe() as stripe_upstream:
        results = [await one_round(database_url, stripe_upstream, latency) for _ in range(rounds)]
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
        f"database {database_url.split(':')[0]}; 2 server processes x 5 pooled connections (+5 for reads); "
        f"Stripe (localstripe) behind a proxy adding {latency} s to every call"
    )
    for n, result in enumerate(results, 1):
        print(f"round {n}: {json.dumps(result)}")
    print(
        "median of rounds: wall "
        f"{statistics.median(float(r['wall_seconds']) for r in results):.2f} s, "  # type: ignore[arg-type]
        f"GET p50 {statistics.median(float(r['get_p50_ms']) for r in results):.1f} ms, "  # type: ignore[arg-type]
        f"GET p99 {statistics.median(float(r['get_p99_ms']) for r in results):.1f} ms"  # type: ignore[arg-type]
    )
    statuses: list[dict[str, int]] = [
        {str(code): int(n) for code, n in dict(r["statuses"]).items()}  # type: ignore[call-overload]
        for r in results
    ]
    wall = statistics.median(float(str(r["wall_seconds"])) for r in results)
    get_p99 = statistics.median(float(str(r["get_p99_ms"])) for r in results)
    won = max(s.get("201", 0) for s in statuses)
    failed = sum(n for s in statuses for code, n in s.items() if int(code) >= 500)
    write_figures(
        json_path,
        [
            Figure("burst wall (postgresql)", wall, "s", "lower"),
            Figure("burst GET p99 (postgresql)", get_p99, "ms", "lower", 1000, compared=False),
            Figure("burst holds won, most in a round (postgresql)", won, "x", "lower", 1.5, cpu_bound=False),
            Figure("burst 5xx answers (postgresql)", failed, "x", "lower", 0.5, cpu_bound=False),
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--racers", type=int, default=200)
    parser.add_argument("--stripe-latency", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default=None, help="write the figures to this file (make bench)")
    arguments = parser.parse_args()
    upgrade(load_settings(database_url=arguments.database_url))
    asyncio.run(
        main(
            arguments.database_url,
            arguments.racers,
            arguments.stripe_latency,
            arguments.rounds,
            arguments.json,
        )
    )
