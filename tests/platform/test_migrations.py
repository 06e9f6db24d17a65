"""The models and the migrations never disagree, and the migrations run both ways on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from api.metadata import include_object, metadata
from api.migrations import downgrade, upgrade
from api.settings import load_settings
from tests.conftest import BACKENDS, recreate_postgres_database, scratch_database


def _schema_differences(url: str) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        return list(compare_metadata(context, metadata))

    async def run() -> list[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tables(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return set(await connection.run_sync(lambda c: sa.inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    return asyncio.run(recreate_postgres_database(scratch_database("deskline_migrations_test")))


def test_upgrade_head_gives_exactly_the_models_schema(empty_database_url: str) -> None:
    upgrade(load_settings(database_url=empty_database_url))
    assert _schema_differences(empty_database_url) == []


def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(empty_database_url: str) -> None:
    settings = load_settings(database_url=empty_database_url)
    upgrade(settings)
    downgrade(settings, "base")
    assert _tables(empty_database_url) <= {"alembic_version"}
    upgrade(settings)
    assert _schema_differences(empty_database_url) == []
    assert {t.name for t in metadata.sorted_tables} <= _tables(empty_database_url)
