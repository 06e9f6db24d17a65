"""Response shapes shared by every area."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class PageOut(msgspec.Struct, Generic[T], kw_only=True):
    items: list[T]
    next_cursor: str | None


class HealthOut(msgspec.Struct, kw_only=True):
    status: str
    database: str | msgspec.UnsetType = msgspec.UNSET
