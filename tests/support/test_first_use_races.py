"""Rows created on first use survive concurrent first users (regression: they used to answer 500)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.counters import next_value
from core.transactions import SQLITE_BEGIN_OPTION
from support.regulation import current_regulation
from tests.world import World

T = TypeVar("T")


async def _concurrently(
    world: World, work: Callable[[AsyncSession], Awaitable[T]], times: int = 8
) -> list[T]:
    """Run ``work`` in separate transactions at once, each opened as a request would open it."""

    async def one() -> T:
        async with world.sessions() as session, session.begin():
            await session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            return await work(session)

    return list(await asyncio.gather(*(one() for _ in range(times))))


async def test_concurrent_first_use_creates_one_default_regulation(world: World) -> None:
    versions = await _concurrently(world, lambda s: _version(s, world))
    assert versions == [1] * 8


async def _version(session: AsyncSession, world: World) -> int:
    return (await current_regulation(session, now=world.clock.now())).version


async def test_concurrent_first_use_of_a_counter_hands_out_distinct_numbers(world: World) -> None:
    numbers = await _concurrently(world, lambda s: next_value(s, "race"))
    assert sorted(numbers) == list(range(1001, 1009))
