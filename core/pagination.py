"""Cursor pagination over time-ordered UUIDv7 keys: newest first, ``next_cursor`` continues."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, InvalidInput

T = TypeVar("T")
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def _unpadded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _raw(cursor: str) -> bytes:
    """The bytes of an unpadded URL-safe base64 cursor (binascii.Error, a ValueError, if it is not)."""
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def encode_cursor(key: uuid.UUID) -> str:
    return _unpadded(key.bytes)


def _unknown_cursor() -> InvalidInput:
    return InvalidInput(
        "The cursor is not one this API handed out.", errors=[FieldProblem("cursor", "unknown cursor")]
    )


def decode_cursor(cursor: str) -> uuid.UUID:
    try:
        return uuid.UUID(bytes=_raw(cursor))
    except (ValueError, binascii.Error) as exc:
        raise _unknown_cursor() from exc


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_LIMIT}.",
            errors=[FieldProblem("limit", f"must be between 1 and {MAX_LIMIT}")],
        )


def page_of(items: Sequence[T], *, limit: int, cursor: str | None) -> Page[T]:
    """A page of a list ordered in memory (a computed order with no key to continue from): the cursor
    is a position in that order, so a page boundary can shift when the order moves between reads."""
    check_limit(limit)
    start = 0
    if cursor:
        try:
            text = _raw(cursor).decode()
            if not text.startswith("q:"):
                raise ValueError(text)
            start = int(text[2:])
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise _unknown_cursor() from exc
    more = start + limit < len(items)
    next_cursor = _unpadded(f"q:{start + limit}".encode()) if more else None
    return Page(items=items[start : start + limit], next_cursor=next_cursor)


async def paginate(
    session: AsyncSession,
    statement: sa.Select[Any],  # Any: the selected entity varies by caller
    key: Any,  # Any: an ORM attribute; SQLModel's col() types it as Mapped, SQLAlchemy as a column
    *,
    limit: int,
    cursor: str | None,
) -> Page[Any]:
    """Run ``statement`` newest first, ``limit`` rows after ``cursor``."""
    check_limit(limit)
    if cursor:
        statement = statement.where(key < decode_cursor(cursor))
    rows = list((await session.scalars(statement.order_by(key.desc()).limit(limit + 1))).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], str(key.key))) if has_more and rows else None
    return Page(items=rows, next_cursor=next_cursor)
