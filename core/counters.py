"""Human-readable sequence numbers (DL-1042), race-free on both databases."""

from __future__ import annotations

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
