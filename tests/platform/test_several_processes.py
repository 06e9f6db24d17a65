"""Several processes on one database: login throttling shared through Redis, SQLite writers that
wait for each other's lock instead of failing."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col

from accounts.models import Organization
from accounts.roles import Role
from api.app import create_app
from api.settings import Settings
from api.throttle import LoginThrottle
from tests.harness import ROOT, refused_port, server_env, servers
from tests.world import World

REDIS = os.environ.get("DESKLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _hold_sqlite_write_lock(
    path: str, seconds: float, release: threading.Event | None = None
) -> threading.Event:
    """Another writer (think: a second server process) holds SQLite's write lock for ``seconds``, or
    until ``release`` is set (however long the other side takes to start)."""
    taken = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        taken.set()
        if release is None:
            time.sleep(seconds)
        else:
            release.wait(seconds)
        connection.execute("COMMIT")
        connection.close()

    threading.Thread(target=hold, daemon=True).start()
    assert taken.wait(10)
    return taken


def _deskline(args: list[str], settings: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and CLI
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=server_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the store matters, not the database
async def test_login_failures_are_counted_across_two_processes_sharing_redis(
    world: World, settings: Settings
) -> None:
    email = f"throttled-{uuid.uuid4().hex[:10]}@example.com"
    await world.user(
        Role.CUSTOMER_ADMIN, await world.organization(), email=email, password="the-right-password"
    )
    env = {
        "DESKLINE_DATABASE_URL": settings.database_url,
        "DESKLINE_RATE_LIMIT_STORAGE": REDIS,
        "DESKLINE_LOGIN_LIMIT_PER_ACCOUNT": "3/minute",
        "DESKLINE_LOGIN_LIMIT_PER_ADDRESS": "1000/minute",
    }
    wrong = {"email": email, "password": "not-the-password"}
    with servers(env, 2) as (first, second):
        async with httpx.AsyncClient(timeout=30) as client:
            statuses = [
                (await client.post(f"{server.url}/v1/auth/login", json=wrong)).status_code
                for server in (first, second, first)
            ]
            refused = await client.post(
                f"{second.url}/v1/auth/login", json={**wrong, "password": "the-right-password"}
            )
    assert statuses == [401, 401, 401]
    assert refused.status_code == 429
    assert refused.json()["code"] == "login_throttled"
    assert int(refused.headers["retry-after"]) > 0


def test_a_server_whose_redis_does_not_answer_refuses_to_start_in_one_line(tmp_path: Path) -> None:
    result = _deskline(
        ["serve", "--port", str(refused_port())],
        {
            "DESKLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
            "DESKLINE_RATE_LIMIT_STORAGE": f"redis://127.0.0.1:{refused_port()}",
        },
    )
    assert result.returncode != 0
    assert "DESKLINE_RATE_LIMIT_STORAGE" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_login_answers_503_when_redis_stops_answering(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_storage": REDIS}), configure_logs=False)
    async with AsyncTestClient(app=app) as client:
        app.state.ctx.throttle = LoginThrottle(
            f"redis://127.0.0.1:{refused_port()}", per_account="5/minute", per_address="30/minute"
        )
        login = {"email": "a@example.com", "password": "whatever-it-is"}
        response = await client.post("/v1/auth/login", json=login)
    assert response.status_code == 503
    assert response.json()["code"] == "login_unavailable"
    assert response.headers["retry-after"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_cli_write_beside_a_busy_sqlite_writer_waits_for_the_lock(database_url: str) -> None:
    _hold_sqlite_write_lock(database_url.split(":///", 1)[1], seconds=1.5)
    started = time.monotonic()
    result = _deskline(
        ["users", "create", "--email", "waits@example.com", "--role", "admin"],
        {"DESKLINE_DATABASE_URL": database_url},
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 1.0  # it waited for the other writer instead of failing


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sqlite_lock_held_past_the_busy_timeout_ends_the_command_in_one_line(database_url: str) -> None:
    done = threading.Event()
    _hold_sqlite_write_lock(database_url.split(":///", 1)[1], seconds=60, release=done)
    try:
        result = _deskline(
            ["users", "create", "--email", "gives-up@example.com", "--role", "admin"],
            {"DESKLINE_DATABASE_URL": database_url, "DESKLINE_SQLITE_BUSY_TIMEOUT_MS": "200"},
        )
    finally:
        done.set()
    assert result.returncode != 0
    assert "DESKLINE_SQLITE_BUSY_TIMEOUT_MS" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_request_that_cannot_get_the_sqlite_write_lock_answers_503_database_busy(
    world: World, settings: Settings, database_url: str
) -> None:
    org = await world.organization()
    admin_headers = await world.headers(await world.user(Role.ADMIN))
    impatient: Litestar = create_app(
        settings.model_copy(update={"sqlite_busy_timeout_ms": 100}), clock=world.clock, configure_logs=False
    )
    _hold_sqlite_write_lock(database_url.split(":///", 1)[1], seconds=2)
    async with AsyncTestClient(app=impatient) as client:
        response = await client.patch(
            f"/v1/organizations/{org.id}", json={"name": "Renamed"}, headers=admin_headers
        )
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_busy"
    assert response.headers["retry-after"]
    await asyncio.sleep(2.2)  # the other writer is done
    async with world.session() as session:
        unchanged = await session.get(Organization, org.id)
    assert unchanged is not None
    assert unchanged.name != "Renamed"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_two_server_processes_on_one_sqlite_file_take_turns_writing(
    world: World, settings: Settings, database_url: str
) -> None:
    world.clock.current = datetime.now(UTC)  # the servers run on the real clock
    headers = await world.headers(await world.user(Role.ADMIN))
    with servers({"DESKLINE_DATABASE_URL": database_url}, 2) as (first, second):
        async with httpx.AsyncClient(timeout=60) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"{(first, second)[n % 2].url}/v1/organizations",
                        json={"name": f"Concurrent {n}"},
                        headers=headers,
                    )
                    for n in range(40)
                )
            )
    assert sorted(r.status_code for r in responses) == [201] * 40
    async with world.session() as session:
        names = (await session.scalars(sa.select(col(Organization.name)))).all()
    assert {f"Concurrent {n}" for n in range(40)} <= set(names)
