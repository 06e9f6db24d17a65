"""Profiling aid for filing: the server's main-thread CPU per request, filing against the bare insert.

Not a figure of ``make bench``: the throughput benchmark (``benchmarks.ticket_creation``) decides the
target. This one calls both apps directly over ASGI (no sockets, no HTTP client, no uvicorn), with
``--concurrency`` requests in flight, and reads the main thread's CPU time around each round: what the
server spends per request, steady to about 1 % from run to run where the throughput benchmark's figures
move by 5-10 %. Use it to decide whether a change to filing's path pays (run it before and after; the
change of a tenth of a millisecond shows).

Run: .venv/bin/python -m benchmarks.filing_cpu [--database-url URL] [--requests 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from litestar import Litestar

from api.app import create_app
from api.logging import configure_logging
from api.migrations import upgrade
from api.settings import load_settings
from benchmarks.ticket_creation import TICKET, bare_app, prepare, write_articles


def json_post_scope(
    path: str, body: bytes, headers: list[tuple[bytes, bytes]]
) -> dict[str, Any]:  # Any: ASGI scope values
    """The ASGI scope of a POST of ``body`` as JSON to ``path``, as a server on loopback hands it over
    (also what tests/platform send the app directly)."""
    length = str(len(body)).encode()
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", length),
            *headers,
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _post(app: Litestar, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    received = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(json_post_scope(path, body, headers), receive, send)  # type: ignore[arg-type]  # plain dicts as messages
    if status != 201:
        raise RuntimeError(f"POST {path} answered {status}")


async def _round(
    app: Litestar, path: str, body: bytes, headers: list[tuple[bytes, bytes]], requests: int, concurrency: int
) -> float:
    """Main-thread CPU milliseconds per request over one round."""
    queue = iter(range(requests))

    async def worker() -> None:
        for _ in queue:
            await _post(app, path, body, headers)

    started = time.thread_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return 1000 * (time.thread_time() - started) / requests


async def main(database_url: str, requests: int, rounds: int, concurrency: int) -> tuple[float, float]:
    settings = load_settings(database_url=database_url, log_level="WARNING", log_format="json")
    configure_logging(settings)
    app = create_app(settings, configure_logs=False)
    bare = bare_app(app.state.ctx.alchemy.get_engine())
    async with app.lifespan():
        await write_articles(app, 300)
        headers = [(b"authorization", f"Bearer {await prepare(app)}".encode())]
        ticket, one = json.dumps(TICKET).encode(), b'{"n": 1}'
        cases: list[tuple[Litestar, str, bytes, list[tuple[bytes, bytes]]]] = [
            (bare, "/insert", one, []),
            (app, "/v1/support/tickets", ticket, headers),
        ]
        for target, path, body, sent in cases:  # warm-up
            await _round(target, path, body, sent, min(requests, 100), concurrency)
        figures: list[list[float]] = [[], []]
        for _ in range(rounds):  # interleaved, so drift hits both alike
            for index, (target, path, body, sent) in enumerate(cases):
                figures[index].append(await _round(target, path, body, sent, requests, concurrency))
    bare_ms, filing_ms = (statistics.median(found) for found in figures)
    print(
        f"database {database_url.split(':')[0]}; {rounds} rounds x {requests} requests, {concurrency} at once"
    )
    for name, median, found in (("bare insert", bare_ms, figures[0]), ("filing", filing_ms, figures[1])):
        rounded = [round(x, 3) for x in found]
        print(f"{name + ':':12} {median:.3f} ms main-thread CPU per request   rounds {rounded}")
    return bare_ms, filing_ms


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    directory = Path(tempfile.mkdtemp(prefix="deskline-filing-cpu-"))
    parser.add_argument("--database-url", default=f"sqlite+aiosqlite:///{directory / 'bench.db'}")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    arguments = parser.parse_args()
    upgrade(load_settings(database_url=arguments.database_url))
    asyncio.run(main(arguments.database_url, arguments.requests, arguments.rounds, arguments.concurrency))
