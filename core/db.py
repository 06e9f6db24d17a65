"""Column helpers shared by every area's SQLModel tables."""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from pydantic_core import PydanticUndefined
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

M = TypeVar("M", bound=SQLModel)

# Any below: SQLModel's Field() returns an untyped FieldInfo that models assign to typed attributes.


def dialect_insert(session: AsyncSession, table: type[SQLModel]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that knows ON CONFLICT on both databases (insert-or-nothing, upserts)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def table_of(model: type[SQLModel]) -> sa.Table:
    """The table behind a SQLModel class (SQLModel leaves ``__table__`` untyped)."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    return table


def column_values(row: SQLModel, *, prefix: str = "") -> dict[str, Any]:  # Any: column values
    """A model instance's column values, for a Core statement built with ``bound_columns``."""
    loaded = vars(row)  # read directly where present: attribute instrumentation costs on hot paths
    return {
        prefix + c.key: loaded[c.key] if c.key in loaded else getattr(row, c.key)
        for c in table_of(type(row)).columns
    }


async def core_execute(
    session: AsyncSession,
    statement: sa.Executable,
    params: Any = None,  # Any: one row or a list of rows
) -> sa.CursorResult[Any]:
    """Run a Core statement on the session's connection, in its transaction, without the ORM's
    statement handling (compile state, loading, autoflush): for hot paths whose statements name
    tables, not entities. Pending objects are not flushed first."""
    connection = await session.connection()
    return await connection.execute(statement, params)


@functools.cache
def insert_into(model: type[SQLModel]) -> sa.Insert:
    """A plain INSERT into the model's table, for ``core_execute`` with ``column_values`` rows."""
    return sa.insert(table_of(model))


async def insert_row(session: AsyncSession, row: SQLModel) -> None:
    """Insert a row built with ``new_row`` as one Core statement: no unit of work."""
    await core_execute(session, insert_into(type(row)), column_values(row))


def new_row(model: type[M], **values: Any) -> M:  # Any: column values
    """A new, session-less instance with every column set from ``values`` or the model's defaults.

    Built the way SQLAlchemy builds the rows it loads (no validation, no attribute events), which is
    several times cheaper than ``model(...)``: for hot paths that insert the row with Core
    (``column_values`` + ``bound_columns``) and then only read it, or change it as any loaded row.
    """
    instance = sa.inspect(model).class_manager.new_instance()
    loaded = vars(instance)
    for name, default, factory in _column_defaults(model):
        if name in values:
            loaded[name] = values.pop(name)
        elif factory is not None:
            loaded[name] = factory()
        elif default is PydanticUndefined:
            raise TypeError(f"{model.__name__}.{name} has no default and no value was given")
        else:
            loaded[name] = default
    if values:
        raise TypeError(f"{model.__name__} has no columns {sorted(values)}")
    return cast(M, instance)


def assign(row: SQLModel, **values: Any) -> None:  # Any: column values
    """Set column values of a row built by ``new_row`` that no session holds, as ``new_row`` set them
    (no validation, no attribute events: for values the database just gave it)."""
    loaded = vars(row)
    for name, value in values.items():
        if name not in loaded:
            raise TypeError(f"{type(row).__name__} has no column {name}")
        loaded[name] = value


@functools.cache
def _column_defaults(model: type[SQLModel]) -> tuple[tuple[str, Any, Callable[[], Any] | None], ...]:
    sa.orm.configure_mappers()  # attribute access on the instances needs configured mappers
    fields = model.model_fields
    return tuple(
        (c.key, fields[c.key].default, cast(Callable[[], Any] | None, fields[c.key].default_factory))
        for c in table_of(model).columns
    )


def bound_columns(
    model: type[SQLModel], *, prefix: str = "", exclude: tuple[str, ...] = ()
) -> dict[str, sa.BindParameter[Any]]:
    """Typed bound parameters for a table's columns, so a Core statement can be built once and
    executed with ``column_values`` (types convert the values exactly as the ORM would)."""
    return {
        c.key: sa.bindparam(prefix + c.key, type_=c.type)
        for c in table_of(model).columns
        if c.key not in exclude
    }


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
