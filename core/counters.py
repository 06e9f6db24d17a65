"""Named integers kept by the database: human-readable sequence numbers (DL-1042), race-free on both
databases, and high-water marks that only ever grow."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from core.db import dialect_insert


class Counter(SQLModel, table=True):
    __tablename__ = "core_counter"

    name: str = Field(primary_key=True, max_length=64)
    value: int = Field(default=0)


async def next_value(session: AsyncSession, name: str, *, start: int = 1000) -> int:
    """Increment and return the named counter; the row lock serialises concurrent callers."""
    upsert = dialect_insert(session, Counter).values(name=name, value=start + 1)
    statement = upsert.on_conflict_do_update(
        index_elements=["name"], set_={"value": col(Counter.value) + 1}
    ).returning(col(Counter.value))
    return int((await session.execute(statement)).scalar_one())


async def raise_to(session: AsyncSession, name: str, value: int) -> None:
    """Make the named high-water mark at least ``value`` (it never goes down)."""
    upsert = dialect_insert(session, Counter).values(name=name, value=value)
    larger = sa.func.greatest if session.get_bind().dialect.name == "postgresql" else sa.func.max
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=["name"], set_={"value": larger(col(Counter.value), upsert.excluded.value)}
        )
    )


async def read(session: AsyncSession, names: list[str]) -> dict[str, int]:
    """The named values that exist."""
    rows = await session.execute(
        sa.select(col(Counter.name), col(Counter.value)).where(col(Counter.name).in_(names))
    )
    return {name: int(value) for name, value in rows}
