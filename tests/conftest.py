"""Test wiring: every database test runs on SQLite and on PostgreSQL, against the migrated schema."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from api.app import build_context, create_app
from api.contract import documented
from api.db import create_engine
from api.metadata import metadata
from api.migrations import upgrade
from api.settings import Settings, load_settings
from core.time import FrozenClock
from tests.harness import localstripe
from tests.outside import CheckedGateway, ContractCheck
from tests.world import World

POSTGRES_URL = os.environ.get(
    "DESKLINE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]
# Each xdist worker gets scratch databases of its own (gw0, gw1, …; "main" when not distributed).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
TEST_DATABASE = f"deskline_test_{WORKER}"


def scratch_database(name: str) -> str:
    """The name of a scratch database of this worker."""
    return f"{name}_{WORKER}"


def postgres_url_for(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


async def recreate_postgres_database(name: str) -> str:
    """Drop and create a scratch database next to the configured one; return its URL."""
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return postgres_url_for(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(load_settings(database_url=f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_database() -> str:
    url = asyncio.run(recreate_postgres_database(TEST_DATABASE))
    upgrade(load_settings(database_url=url))
    return url


async def _empty_all_tables(url: str) -> None:
    """Delete every row, children first, with triggers off for this transaction (the append-only audit
    table refuses deletes otherwise). Several times faster than TRUNCATE on tables this small, and one
    round trip: the deletes run server-side in one anonymous block (a statement each was 46 round trips,
    45 ms of every PostgreSQL test; the block takes 22 ms)."""
    tables = reversed(metadata.sorted_tables)
    deletes = " ".join(f'DELETE FROM "{table.name}";' for table in tables)  # noqa: S608 - our own names
    block = f"DO $$ BEGIN PERFORM set_config('session_replication_role', 'replica', true); {deletes} END $$"
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text(block))
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        target = tmp_path / "deskline.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(_empty_all_tables(url))
    return url


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    """A stateful fake Stripe (localstripe) on a free loopback port, for the whole run."""
    with localstripe() as url:
        yield url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, localstripe_url: str) -> Settings:
    return load_settings(
        stripe_api_base=localstripe_url,
        database_url=database_url,
        environment="test",
        rate_limit_storage="memory://",
        attachments_dir=tmp_path / "attachments",
        gc_freeze_on_start=False,  # a full collection per test app would only slow the suite
        # Tests move the clock by days; tokens must outlive that (expiry has its own tests).
        access_token_ttl_seconds=14 * 86_400,
        log_format="json",
        webhook_allow_private_addresses=True,  # the tests' webhook receivers listen on loopback
        # A queue event stream called through the in-process test client is read to its end: keep it short.
        queue_stream_seconds=1,
    )


_APPS: dict[str, Litestar] = {}


@pytest.fixture
async def app(settings: Settings, clock: FrozenClock) -> AsyncIterator[Litestar]:
    """The app of this backend. Building one costs ~0.3 s (Litestar parses every handler), so one is
    built per backend and each test points it at its own database through new engines, with a fresh
    context: its own clock, key cache, login throttle and Stripe gateway."""
    backend = "sqlite" if settings.is_sqlite else "postgresql"
    shared = _APPS.get(backend)
    if shared is None:
        shared = _APPS[backend] = create_app(settings, clock=clock, configure_logs=False)
        # Every response of every test is checked against the OpenAPI document.
        shared.state.contract = ContractCheck(
            shared.asgi_handler, documented(shared.openapi_schema.to_schema())
        )
        shared.asgi_handler = shared.state.contract
    alchemy = shared.state.ctx.alchemy
    engine, read_engine = (
        create_engine(settings),
        create_engine(settings, pool_size=settings.database_read_pool_size),
    )
    alchemy.engine_instance = engine
    alchemy.create_session_maker().configure(bind=engine)  # new sessions use this test's engine
    ctx = build_context(settings, clock=clock, alchemy=alchemy, read_engine=read_engine)
    ctx.gateway = CheckedGateway(ctx.gateway, shared)  # the connection rule, checked on every Stripe call
    shared.state.ctx = ctx
    contract: ContractCheck = shared.state.contract
    contract.violations.clear()
    yield shared
    # The test client's lifespan closed what its requests opened (in its own event loop, gone now);
    # drop the pools without touching connections of a closed loop.
    await engine.dispose(close=False)
    await read_engine.dispose(close=False)
    assert not contract.violations, "responses the OpenAPI document does not describe:\n" + "\n".join(
        contract.violations
    )


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture
async def world(
    app: Litestar, client: AsyncTestClient[Litestar], clock: FrozenClock, settings: Settings
) -> AsyncIterator[World]:
    engine = create_engine(settings)
    try:
        yield World(
            app=app, client=client, clock=clock, sessions=async_sessionmaker(engine, expire_on_commit=False)
        )
    finally:
        await engine.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say, at the end of the run, how many tests passed on each database."""
    passed = terminalreporter.stats.get("passed", [])

    def parameters(nodeid: str) -> set[str]:
        return set(nodeid.partition("[")[2].rstrip("]").split("-"))

    counts = {backend: sum(backend in parameters(report.nodeid) for report in passed) for backend in BACKENDS}
    terminalreporter.write_line(
        "database backends: " + ", ".join(f"{backend} {count} passed" for backend, count in counts.items())
    )


# The longest tests start first, so the two workers end together (the rest fill in around them).
STARTS_FIRST = (
    "tests/portal/test_portal.py",
    "tests/platform/test_schemathesis.py",
    "tests/platform/test_walkthroughs.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.partition("::")[0]
        return STARTS_FIRST.index(path) if path in STARTS_FIRST else len(STARTS_FIRST)

    items.sort(key=rank)


# Tests that share expensive processes run on one worker. pytest-xdist's own `xdist_group` marks
# rely on rewriting node ids, which pytest 9 no longer allows, so the grouping is by path here.
TOGETHER = ("tests/portal/test_portal.py",)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:  # Any: xdist's own types
    from xdist.scheduler import LoadGroupScheduling  # type: ignore[import-untyped]

    class KeptTogether(LoadGroupScheduling):  # type: ignore[misc]  # xdist is not typed
        def _split_scope(self, nodeid: str) -> str:
            return next((group for group in TOGETHER if nodeid.startswith(f"{group}::")), nodeid)

    return KeptTogether(config, log) if config.getvalue("dist") == "loadgroup" else None
