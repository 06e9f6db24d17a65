"""Column helpers shared by every area's SQLModel tables."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from core.ids import new_id

# Deterministic constraint names: migrations and models agree, and downgrades can drop them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Any below: SQLModel's Field() returns an untyped FieldInfo that models assign to typed attributes.


def dialect_insert(session: AsyncSession, table: type[SQLModel]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that knows ON CONFLICT on both databases (insert-or-nothing, upserts)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def id_field() -> Any:
    return Field(default_factory=new_id, primary_key=True)


def utc_field(*, nullable: bool = False, index: bool = False) -> Any:
    """An aware UTC instant: ``timestamptz`` on PostgreSQL, normalised to UTC on SQLite."""
    return Field(
        default=None,
        sa_column=sa.Column(DateTimeUTC(timezone=True), nullable=nullable, index=index),
    )


class StrEnumType(sa.types.TypeDecorator[StrEnum]):
    """Stores a StrEnum as short text and loads it back as the enum member."""

    impl = sa.String(32)
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: StrEnum | str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def enum_field(enum: type[StrEnum], *, default: StrEnum | None = None, index: bool = False) -> Any:
    """A StrEnum stored as short text; pair it with ``enum_check`` in ``__table_args__``."""
    if default is None:
        return Field(sa_type=StrEnumType(enum), index=index)
    return Field(default=default, sa_type=StrEnumType(enum), index=index)


def enum_check(column: str, enum: type[StrEnum]) -> sa.CheckConstraint:
    """CHECK constraint: the column holds one of the enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return sa.CheckConstraint(f"{column} IN ({values})", name=f"{column}_allowed")


def uuid_fk(target: str, *, nullable: bool = False, index: bool = True, ondelete: str | None = None) -> Any:
    return Field(
        default=None,
        sa_column=sa.Column(
            sa.Uuid(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
        ),
    )
